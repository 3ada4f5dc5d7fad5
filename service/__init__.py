"""The HTTP decision service (dealcoach serve): review, gate and batch over a versioned JSON API."""
