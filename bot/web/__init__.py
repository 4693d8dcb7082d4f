"""What people and machines look at: the worker's HTTP endpoint (server, connections, feed files,
metrics), the status report and page, the preview page, and the one HTML shell they share."""
