"""Executors: they take a list of jobs and hand their records to the driver, whatever runs
them (this process, the processes of ``accelerate launch``)."""
