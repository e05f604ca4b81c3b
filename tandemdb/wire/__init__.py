"""What crosses the network: length-prefixed frames, the peer protocol and the client protocol.

The client package imports only this package (and the KV command and result structs it carries).
"""
