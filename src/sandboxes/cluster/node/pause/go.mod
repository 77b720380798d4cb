module sandboxes.invalid/node/pause

go 1.24.0
