"""The leaderboards' own acceptance checks, run on what the suite writes (MatBench's CI script
in a temporary tree laid out like its repository; Matbench Discovery's model schema)."""
