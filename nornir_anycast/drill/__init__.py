"""Failover drills on the built-in lab: steady HTTP load, a fault on one server, figures.

`nornir_anycast.drill.runner.run_drill` runs one drill (`python tasks.py drill HOST --mode ...`);
`load` is the load generator (run inside the client's namespaces), `poll` the edge's kernel
route poller (run inside the edge's namespaces), `faults` how each fault is made and undone,
`measure` the arithmetic that turns their records into the report.
"""
