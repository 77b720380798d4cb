"""Tests of the default workload page (workload/sandbox_web), run as a real server process."""
