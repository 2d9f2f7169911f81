"""结对帮扶: helper schools paired with the schools they assist."""
