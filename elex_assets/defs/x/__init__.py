"""X: posts and counts assets, their jobs, schedules and sensors, compliance."""
