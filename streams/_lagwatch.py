import asyncio, sys, threading, time, traceback, collections
_snaps = {}
def _sampler(ident, name):
    snaps = _snaps.setdefault(name, collections.deque(maxlen=100))
    while True:
        fr = sys._current_frames().get(ident)
        if fr is not None:
            st = traceback.extract_stack(fr)
            snaps.append((time.time(), " < ".join(f"{s.name}({s.filename.split('/')[-1]}:{s.lineno})" for s in reversed(st[-10:]))))
        time.sleep(0.004)
async def watch(name):
    ident = threading.get_ident()
    threading.Thread(target=_sampler, args=(ident, name), daemon=True).start()
    while True:
        t = time.time(); await asyncio.sleep(0.005); late = (time.time() - t - 0.005) * 1000
        if late > 30:
            now = time.time()
            with open("/tmp/prof/lagwatch.log", "a") as f:
                f.write(f"LAG {name} {late:.1f} ms at {now:.3f}\n")
                last = None
                for ts, s in list(_snaps[name]):
                    if ts > now - late / 1000 - 0.005 and s != last: f.write(f"  {ts:.3f} {s}\n"); last = s
