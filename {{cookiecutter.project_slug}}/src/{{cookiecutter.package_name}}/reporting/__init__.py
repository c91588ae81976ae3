"""From run directories to a result table: find runs, group them, compute statistics, write tables, plot."""
