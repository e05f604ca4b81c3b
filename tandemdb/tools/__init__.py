"""Tools that orchestrate local processes (``LocalCluster``: real ``tandem start`` processes on one machine).

They may import ``client/`` and the server's entry points; nothing in ``server/`` or any lower layer imports them.
"""
