module sandboxes.invalid/tests/realnode/tool

go 1.24.0
