/**
 * The relay between a stage's API sockets and the engine, as the Python program it runs with
 * (`python3 -I -c`). Node has no AF_UNIX SOCK_SEQPACKET sockets and cannot receive file descriptors
 * (SCM_RIGHTS), and OSBuild's `jsoncomm` protocol needs both; no npm package offers both (the one
 * with SEQPACKET, node-unix-socket, passes no descriptors), and Python 3 is on every Debian host
 * forge runs on. The program is a string here so that the bundled `forge` carries it.
 *
 * The relay listens on the socket names it is given (argv, relative to its working directory),
 * one endpoint each. Every datagram it
 * receives goes to the engine as one JSON line on file descriptor 3: `{seq, endpoint, conn,
 * message, fds}`, where `message` is the datagram's text (OSBuild's large-message form, a memfd
 * behind the `<args-via-fd>` marker, already read) and `fds` are the descriptors that came with
 * it, as `/proc/<relay pid>/fd/<n>` paths the engine can open while the relay holds them. The
 * engine answers `{seq, reply}`: the reply (if not null) goes back on that connection as one
 * datagram, then the descriptors are closed. `{stop: true}` makes the relay read what is still
 * queued (the stage has exited, so nothing more comes), send it, answer `{stopped: true}` and exit.
 * Limits: a datagram over 16 MiB is dropped (reported as `{seq, endpoint, conn, dropped}`).
 */
export const RELAY_PROGRAM = `
import json, os, selectors, socket, sys

LIMIT = 16 << 20
MARKER = b"<args-via-fd>"
chan = socket.socket(fileno=3)
sel = selectors.DefaultSelector()
paths = sys.argv[1:]
for i, path in enumerate(paths):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server.bind(path)
    server.listen(64)
    server.setblocking(False)
    sel.register(server, selectors.EVENT_READ, ("listen", i))
sel.register(chan, selectors.EVENT_READ, ("chan", None))
conns = {}
held = {}
counter = [0, 0]


def emit(obj):
    chan.sendall((json.dumps(obj) + "\\n").encode())


def close_fds(fds):
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def accept(server, endpoint):
    while True:
        try:
            conn, _ = server.accept()
        except BlockingIOError:
            return
        conn.setblocking(False)
        counter[0] += 1
        conns[counter[0]] = conn
        sel.register(conn, selectors.EVENT_READ, ("conn", (counter[0], endpoint)))


def receive(cid, endpoint):
    conn = conns[cid]
    size = 4096
    try:
        while True:
            data, _, flags, _ = conn.recvmsg(size, 0, socket.MSG_PEEK)
            if not data or not flags & socket.MSG_TRUNC or size > LIMIT:
                break
            size *= 2
        if not data:
            # end of the connection (or an empty datagram, which jsoncomm never sends)
            conn.recvmsg(1)
            sel.unregister(conn)
            conn.close()
            del conns[cid]
            return False
        data, anc, flags, _ = conn.recvmsg(size, socket.CMSG_LEN(253 * 4))
    except BlockingIOError:
        return False
    except OSError:
        sel.unregister(conn)
        conn.close()
        del conns[cid]
        return False
    fds = []
    for level, kind, raw in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds += [int.from_bytes(raw[i : i + 4], sys.byteorder, signed=True) for i in range(0, len(raw) - len(raw) % 4, 4)]
    counter[1] += 1
    seq = counter[1]
    if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
        close_fds(fds)
        emit({"seq": seq, "endpoint": endpoint, "conn": cid, "dropped": "truncated"})
        return True
    if data == MARKER and fds:
        payload = b""
        with os.fdopen(fds.pop(0), "rb") as f:
            payload = f.read(LIMIT + 1)
        if len(payload) > LIMIT:
            close_fds(fds)
            emit({"seq": seq, "endpoint": endpoint, "conn": cid, "dropped": "too large"})
            return True
        data = payload
    held[seq] = (cid, fds)
    pid = os.getpid()
    emit({
        "seq": seq,
        "endpoint": endpoint,
        "conn": cid,
        "message": data.decode("utf-8", "replace"),
        "fds": ["/proc/%d/fd/%d" % (pid, fd) for fd in fds],
    })
    return True


def answer(cmd):
    cid, fds = held.pop(cmd.get("seq"), (None, []))
    conn = conns.get(cid)
    if conn is not None and cmd.get("reply") is not None:
        try:
            conn.setblocking(True)
            conn.sendmsg([json.dumps(cmd["reply"]).encode()])
            conn.setblocking(False)
        except OSError:
            pass
    close_fds(fds)


def sweep():
    for key in list(sel.get_map().values()):
        kind, data = key.data
        if kind == "listen":
            accept(key.fileobj, data)
    for cid in list(conns):
        endpoint = sel.get_key(conns[cid]).data[1][1]
        while cid in conns and receive(cid, endpoint):
            pass


emit({"ready": os.getpid()})
pending = b""
while True:
    for key, _ in sel.select():
        kind, data = key.data
        if kind == "listen":
            accept(key.fileobj, data)
        elif kind == "conn":
            if data[0] in conns:
                receive(data[0], data[1])
        else:
            chunk = chan.recv(65536)
            if not chunk:
                sys.exit(0)
            pending += chunk
            while b"\\n" in pending:
                line, pending = pending.split(b"\\n", 1)
                cmd = json.loads(line)
                if cmd.get("stop"):
                    sweep()
                    emit({"stopped": True})
                    sys.exit(0)
                answer(cmd)
`;
