"""CSV import of customers: reading a file, mapping its columns, normalizing rows, running and undoing.

`services` holds the rules (upload, set_mapping, preview, dry_run, queue, run, undo, rejected_csv);
the screens (views.py) and the command (commands.py) call it; the Huey task (tasks.py) runs `run`."""
