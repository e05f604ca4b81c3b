"""The asyncio shell around ``tandemdb.node``: sockets, the disk thread, timers and the HTTP API."""
