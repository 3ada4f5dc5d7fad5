"""The dealcoach engine: deal model, rule evaluation, rendering. The public API is re-exported by `dealcoach`."""
