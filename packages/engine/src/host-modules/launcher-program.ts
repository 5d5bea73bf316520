/**
 * The launcher of one host module (a device, mount, input or source executable of a libdir), as the
 * Python program it runs with (`python3 -I -c`). OSBuild starts such a module as
 * `EXE --service-id ID --service-fd FD`, FD being its end of an AF_UNIX SOCK_SEQPACKET socket pair
 * over which it answers `jsoncomm` datagrams; Node can make neither the pair nor hand a descriptor
 * on, so this launcher makes the pair, starts the module with its end (its stdout and stderr are the
 * launcher's stdout, which the engine logs) and relays: every datagram the module sends goes to the
 * engine as one JSON line `{message}` on file descriptor 3 (OSBuild's large-message form, a memfd
 * behind the `<args-via-fd>` marker, already read; descriptors that came with it are closed, no
 * reply of a module carries one), and every `{send}` line of the engine goes to the module as one
 * datagram (through a memfd when it is too large for one). `{stop: true}`, or the end of the
 * channel (the engine died), closes the launcher's end: the module, as OSBuild's ServiceManager
 * stops it, sees the end of its socket, releases what it holds and exits; the launcher reports
 * `{exited: <status>}` and exits. A datagram over 16 MiB is dropped (`{dropped}`).
 */
import { HELPER_PYTHON } from '../helper-python.ts';

export const LAUNCHER_PROGRAM = `
import array, json, os, selectors, socket, subprocess, sys
${HELPER_PYTHON}
exe, service_id = sys.argv[1], sys.argv[2]
ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
fd = theirs.fileno()
proc = subprocess.Popen(
    [exe, "--service-id", service_id, "--service-fd", str(fd)],
    stdin=subprocess.DEVNULL,
    stderr=subprocess.STDOUT,
    pass_fds=(fd,),
    close_fds=True,
)
theirs.close()


def send(text):
    data = text.encode()
    try:
        ours.sendmsg([data])
    except OSError as e:
        if e.errno != 90:  # EMSGSIZE: jsoncomm's memfd form
            raise
        payload = os.memfd_create("jsoncomm/payload")
        try:
            os.write(payload, data)
            os.lseek(payload, 0, 0)
            ours.sendmsg([MARKER], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [payload]))])
        finally:
            os.close(payload)


def receive():
    data, fds, dropped = recv_datagram(ours)
    close_fds(fds)
    if dropped:
        return {"dropped": dropped}
    if data is None:
        return None
    return {"message": data.decode("utf-8", "replace")}


def finish():
    ours.close()
    emit({"exited": proc.wait()})
    sys.exit(0)


sel = selectors.DefaultSelector()
sel.register(chan, selectors.EVENT_READ, "chan")
sel.register(ours, selectors.EVENT_READ, "module")
emit({"ready": proc.pid})
while True:
    for key, _ in sel.select():
        if key.data == "module":
            event = receive()
            if event is None:
                sel.unregister(ours)
                emit({"closed": True})
            else:
                emit(event)
            continue
        cmds = commands()
        if cmds is None:
            finish()
        for cmd in cmds:
            if cmd.get("stop"):
                finish()
            try:
                send(json.dumps(cmd["send"]))
            except OSError as e:
                emit({"closed": True, "error": str(e)})
`;
