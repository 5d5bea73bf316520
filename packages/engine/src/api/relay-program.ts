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
import { HELPER_PYTHON } from '../helper-python.ts';

export const RELAY_PROGRAM = `
import json, os, selectors, socket, sys
${HELPER_PYTHON}
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
    try:
        data, fds, dropped = recv_datagram(conn)
    except BlockingIOError:
        return False
    except OSError:
        data, fds, dropped = None, [], None
    if data is None and dropped is None:
        sel.unregister(conn)
        conn.close()
        del conns[cid]
        return False
    counter[1] += 1
    seq = counter[1]
    if dropped:
        emit({"seq": seq, "endpoint": endpoint, "conn": cid, "dropped": dropped})
        return True
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
while True:
    for key, _ in sel.select():
        kind, data = key.data
        if kind == "listen":
            accept(key.fileobj, data)
        elif kind == "conn":
            if data[0] in conns:
                receive(data[0], data[1])
        else:
            cmds = commands()
            if cmds is None:
                sys.exit(0)
            for cmd in cmds:
                if cmd.get("stop"):
                    sweep()
                    emit({"stopped": True})
                    sys.exit(0)
                answer(cmd)
`;
