"""What every part of the service stands on: settings, the one error shape, logs, metrics."""
