"""aws-chunked body decoding (S3 streaming uploads): the public API, compiled or pure.

    decoder = Decoder()
    for kind, a, b in decoder.feed(received_bytes): ...   # CHUNK / DATA / TRAILER / END events
    decoder.close()                                        # raises AwsChunkedError if truncated
"""
from native import load

_impl = load("awschunked")

Decoder = _impl.Decoder
AwsChunkedError = _impl.AwsChunkedError
CHUNK, DATA, TRAILER, END = _impl.CHUNK, _impl.DATA, _impl.TRAILER, _impl.END
MAX_LINE, MAX_TRAILER_BYTES = _impl.MAX_LINE, _impl.MAX_TRAILER_BYTES
IMPLEMENTATION = _impl.__name__
