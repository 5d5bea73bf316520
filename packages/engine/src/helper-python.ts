/**
 * What the engine's Python helpers (the stage API relay, the host module launcher; see helper.ts)
 * share, as Python text they include. Needs `json`, `os`, `socket` and `sys` imported.
 * - The channel to the engine, file descriptor 3: `emit(obj)` writes one JSON line, `commands()`
 *   returns the JSON lines that arrived, or None once the engine is gone.
 * - `recv_datagram(sock)` receives one `jsoncomm` datagram (OSBuild's `osbuild/util/jsoncomm.py`):
 *   the size found by peeking, the descriptors that came with it (SCM_RIGHTS), the large-message
 *   form (the text in a memfd sent behind the `<args-via-fd>` marker) already read. It returns
 *   `(data, fds, None)`, `(None, [], None)` at the end of the connection, or `(None, [], reason)`
 *   for a datagram dropped (truncated, over 16 MiB).
 */
export const HELPER_PYTHON = `
chan = socket.socket(fileno=3)
pending = [b""]


def emit(obj):
    chan.sendall((json.dumps(obj) + "\\n").encode())


def commands():
    chunk = chan.recv(65536)
    if not chunk:
        return None
    lines = (pending[0] + chunk).split(b"\\n")
    pending[0] = lines.pop()
    return [json.loads(line) for line in lines]

LIMIT = 16 << 20
MARKER = b"<args-via-fd>"


def close_fds(fds):
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def recv_datagram(sock):
    size = 4096
    while True:
        data, _, flags, _ = sock.recvmsg(size, 0, socket.MSG_PEEK)
        if not data or not flags & socket.MSG_TRUNC or size > LIMIT:
            break
        size *= 2
    if not data:
        # end of the connection (or an empty datagram, which jsoncomm never sends)
        sock.recvmsg(1)
        return None, [], None
    data, anc, flags, _ = sock.recvmsg(size, socket.CMSG_LEN(253 * 4))
    fds = []
    for level, kind, raw in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds += [int.from_bytes(raw[i : i + 4], sys.byteorder, signed=True) for i in range(0, len(raw) - len(raw) % 4, 4)]
    if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
        close_fds(fds)
        return None, [], "truncated"
    if data == MARKER and fds:
        with os.fdopen(fds.pop(0), "rb") as f:
            data = f.read(LIMIT + 1)
        if len(data) > LIMIT:
            close_fds(fds)
            return None, [], "too large"
    return data, fds, None
`;
