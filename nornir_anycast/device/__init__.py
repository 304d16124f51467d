"""Stage 4, the device: talking to a host over its netmiko connection.

- `shell`: running shell commands and moving files (`Shell`);
- `commands`: the per-platform command table (what to send, how vtysh/birdc wrap it);
- `services`: how services are checked, started and reloaded per service manager;
- `linux_net`: a Linux host's addresses, routes and sysctls, desired vs actual;
- `drain_marker`: a server's drain state, kept on the server.
"""
