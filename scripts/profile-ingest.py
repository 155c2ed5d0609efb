#!/usr/bin/env python3
# Profiling aid (BENCHMARKS.md, "Where the time and memory go"): `python3 scripts/profile-ingest.py
# http://127.0.0.1:8080 10000 [phones]` against a server on the demo commune, with `perf record -p`
# on the server meanwhile. Standard library only.
# Pushes house visits as the Phú Lộc volunteer in 100-record batches, like the bench's ingest suite.
import json, sys, urllib.request, uuid, random, datetime, threading, time
base = sys.argv[1]; total = int(sys.argv[2]); phones = int(sys.argv[3]) if len(sys.argv) > 3 else 1
def call(path, body=None, token=None):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode() if body is not None else None,
        headers={'content-type': 'application/json', **({'authorization': 'Bearer ' + token} if token else {})})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())
tok = call('/api/v1/auth/login', {'username': 'tinhnguyen.phuloc', 'password': 'TungNha@2026'})['access_token']
hh = {}; res = {}; cursor = ''
while True:
    p = call('/api/v1/sync/pull?limit=5000' + ('&cursor=' + cursor if cursor else ''), token=tok)
    for c in p['changes']:
        if c['kind'] == 'household' and c['data']: hh[c['id']] = []
        if c['kind'] == 'resident' and c['data']: res.setdefault(c['data']['household_id'], []).append(c['id'])
    cursor = p['cursor']
    if not p['has_more']: break
village = [(h, res[h]) for h in hh if res.get(h)]
rng = random.Random(int(__import__("os").environ.get("SEED", "7"))); now = datetime.datetime.now(datetime.timezone.utc)
def rec():
    h, rs = village[rng.randrange(len(village))]
    t = now - datetime.timedelta(seconds=rng.randrange(60, 1209600))
    return {'kind': 'assistance_record', 'id': str(uuid.UUID(int=rng.getrandbits(128), version=4)), 'op': 'create',
            'data': {'household_id': h, 'resident_ids': [rs[rng.randrange(len(rs))]], 'occurred_at': t.strftime('%Y-%m-%dT%H:%M:%SZ'),
                     'channel': 'house_visit', 'items': [{'service_code': 'vneid_level2', 'outcome': rng.choice(['done', 'done', 'assisted', 'declined'])}]}}
batches = [[rec() for _ in range(100)] for _ in range(total // 100)]
bodies = [json.dumps({'device_id': f'prof-{i % phones}', 'records': b}).encode() for i, b in enumerate(batches)]
print('households', len(village), 'batches', len(bodies), flush=True)
def worker(k):
    for i in range(k, len(bodies), phones):
        req = urllib.request.Request(base + '/api/v1/sync/push', data=bodies[i], headers={'content-type': 'application/json', 'authorization': 'Bearer ' + tok})
        with urllib.request.urlopen(req, timeout=120) as r: r.read()
t = time.time(); ts = [threading.Thread(target=worker, args=(k,)) for k in range(phones)]
[x.start() for x in ts]; [x.join() for x in ts]
dt = time.time() - t; print(f'{total} records in {dt:.1f} s = {total/dt:.0f}/s', flush=True)
