// Edge requests for scripts/validate, sent through Prism's validation proxy:
// every operation, every declared error a client can provoke from outside
// (500, 503 and 504 need a failing store, and 409's Retry-After a write
// race: the Go tests cover those), conditional requests and HEAD. Each
// request must get the status it is meant to provoke, and Prism must report
// no response violation (sl-violations) and find the operation in the spec.
// Usage: node edge.mjs http://127.0.0.1:PRISM_PORT
// With VALIDATORS_BEARER_TOKEN set, every request carries it.
const base = process.argv[2];
const token = process.env.VALIDATORS_BEARER_TOKEN || '';
const timeoutMs = 10_000;
const unknown = '01JDQ8Z6M3N4P5Q6R7S8T9V0WX';
const json = 'application/json';
const patchCT = 'application/merge-patch+json';
let failures = 0;
let count = 0;

async function send(name, method, path, { headers = {}, body, want }) {
  count++;
  const h = { Accept: 'application/json, application/problem+json', ...headers };
  if (token) h.Authorization = 'Bearer ' + token;
  let res;
  try {
    res = await fetch(base + path, { method, headers: h, body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    failures++;
    console.log(`FAIL ${name}: ${method} ${path}: ${err}`);
    return {};
  }
  const text = await res.text();
  const problems = [];
  if (res.status !== want) problems.push(`status ${res.status}, want ${want}: ${text.slice(0, 300)}`);
  const raw = res.headers.get('sl-violations');
  if (raw) {
    let list;
    try { list = JSON.parse(raw); } catch { list = [{ location: ['response'], message: raw }]; }
    for (const v of list) {
      const where = (v.location || []).join('.');
      // Request violations are expected where a request breaks the spec on
      // purpose; an unknown route or any response violation is not.
      if (where.startsWith('response') || /route not found/i.test(v.message)) problems.push(`Prism: ${where} ${v.message}`);
    }
  }
  if (problems.length) {
    failures++;
    console.log(`FAIL ${name}: ${method} ${path}\n  ${problems.join('\n  ')}`);
  } else {
    console.log(`ok   ${name}: ${method} ${path} → ${res.status}`);
  }
  let parsed;
  try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
  return { res, body: parsed };
}

const item = { name: 'Espresso cup', price: 1250, currency: 'EUR', description: 'Porcelain cup, 80 ml.', tags: ['kitchen'] };
const big = JSON.stringify({ ...item, description: 'x'.repeat(1 << 20) });
const s = JSON.stringify;

// Service
for (const p of ['/', '/healthz', '/readyz']) {
  await send('service', 'GET', p, { want: 200 });
  await send('service headers', 'HEAD', p, { want: 200 });
}

// Items: create, with and without a key, and every refusal.
const key = 'edge-' + Date.now();
const created = await send('create item', 'POST', '/v1/items', { headers: { 'Content-Type': json, 'Idempotency-Key': key }, body: s(item), want: 201 });
const id = created.body?.id ?? unknown;
let etag = created.res?.headers.get('etag') ?? '"none"';
await send('create replayed', 'POST', '/v1/items', { headers: { 'Content-Type': json, 'Idempotency-Key': key }, body: s(item), want: 201 });
await send('create, key reused with another body', 'POST', '/v1/items', { headers: { 'Content-Type': json, 'Idempotency-Key': key }, body: s({ ...item, price: 1 }), want: 422 });
const second = await send('create a second item', 'POST', '/v1/items', { headers: { 'Content-Type': json }, body: s({ ...item, name: 'Saucer' }), want: 201 });
await send('create, malformed JSON', 'POST', '/v1/items', { headers: { 'Content-Type': json }, body: '{"name":', want: 400 });
await send('create, not JSON', 'POST', '/v1/items', { headers: { 'Content-Type': 'text/plain' }, body: s(item), want: 415 });
await send('create, body over the limit', 'POST', '/v1/items', { headers: { 'Content-Type': json }, body: big, want: 413 });
await send('create, invalid fields', 'POST', '/v1/items', { headers: { 'Content-Type': json }, body: s({ name: '', price: -1, currency: 'XYZ' }), want: 422 });
await send('create, null description', 'POST', '/v1/items', { headers: { 'Content-Type': json }, body: s({ ...item, description: null }), want: 422 });
await send('create, empty Idempotency-Key', 'POST', '/v1/items', { headers: { 'Content-Type': json, 'Idempotency-Key': '' }, body: s(item), want: 422 });

// Reads, conditional reads, HEAD.
await send('get item', 'GET', `/v1/items/${id}`, { want: 200 });
await send('get item, If-None-Match current', 'GET', `/v1/items/${id}`, { headers: { 'If-None-Match': etag }, want: 304 });
await send('get item, If-None-Match *', 'GET', `/v1/items/${id}`, { headers: { 'If-None-Match': '*' }, want: 304 });
await send('get item, If-None-Match other', 'GET', `/v1/items/${id}`, { headers: { 'If-None-Match': '"other"' }, want: 200 });
await send('get item, unknown', 'GET', `/v1/items/${unknown}`, { want: 404 });
await send('get item, malformed id', 'GET', '/v1/items/not-an-id', { want: 422 });
await send('head item', 'HEAD', `/v1/items/${id}`, { want: 200 });
await send('head item, If-None-Match current', 'HEAD', `/v1/items/${id}`, { headers: { 'If-None-Match': etag }, want: 304 });
await send('head item, unknown', 'HEAD', `/v1/items/${unknown}`, { want: 404 });
await send('head item, malformed id', 'HEAD', '/v1/items/not-an-id', { want: 422 });
const page = await send('list items, one a page', 'GET', '/v1/items?limit=1', { want: 200 });
const cursor = page.body?.next_cursor;
if (cursor) await send('list items, next page', 'GET', `/v1/items?limit=1&cursor=${encodeURIComponent(cursor)}`, { want: 200 });
else { failures++; console.log('FAIL list items: two items, one a page, but no next_cursor'); }
await send('list items by tag and text', 'GET', '/v1/items?tag=kitchen&q=cup', { want: 200 });
await send('list items, cursor not ours', 'GET', '/v1/items?cursor=bm90LW91cnM', { want: 400 });
await send('list items, limit 0', 'GET', '/v1/items?limit=0', { want: 422 });
await send('list items, empty tag', 'GET', '/v1/items?tag=', { want: 422 });
await send('head list items', 'HEAD', '/v1/items?limit=1', { want: 200 });
await send('head list items, cursor not ours', 'HEAD', '/v1/items?cursor=bm90LW91cnM', { want: 400 });
await send('head list items, limit 0', 'HEAD', '/v1/items?limit=0', { want: 422 });

// Replace.
const replaced = await send('replace item, If-Match current', 'PUT', `/v1/items/${id}`, { headers: { 'Content-Type': json, 'If-Match': etag }, body: s({ ...item, price: 1300 }), want: 200 });
const stale = etag;
etag = replaced.res?.headers.get('etag') ?? etag;
await send('replace item, If-Match stale', 'PUT', `/v1/items/${id}`, { headers: { 'Content-Type': json, 'If-Match': stale }, body: s(item), want: 412 });
await send('replace item, unknown', 'PUT', `/v1/items/${unknown}`, { headers: { 'Content-Type': json }, body: s(item), want: 404 });
await send('replace item, malformed JSON', 'PUT', `/v1/items/${id}`, { headers: { 'Content-Type': json }, body: '{', want: 400 });
await send('replace item, not JSON', 'PUT', `/v1/items/${id}`, { headers: { 'Content-Type': 'text/plain' }, body: s(item), want: 415 });
await send('replace item, body over the limit', 'PUT', `/v1/items/${id}`, { headers: { 'Content-Type': json }, body: big, want: 413 });
await send('replace item, null description', 'PUT', `/v1/items/${id}`, { headers: { 'Content-Type': json }, body: s({ ...item, description: null }), want: 422 });

// Merge patch.
const patched = await send('patch item, If-Match current', 'PATCH', `/v1/items/${id}`, { headers: { 'Content-Type': patchCT, 'If-Match': etag }, body: s({ price: 1400, description: null }), want: 200 });
etag = patched.res?.headers.get('etag') ?? etag;
await send('patch item, {} changes nothing', 'PATCH', `/v1/items/${id}`, { headers: { 'Content-Type': patchCT, 'If-Match': etag }, body: '{}', want: 200 });
await send('patch item, If-Match stale', 'PATCH', `/v1/items/${id}`, { headers: { 'Content-Type': patchCT, 'If-Match': stale }, body: s({ price: 1 }), want: 412 });
await send('patch item, plain JSON', 'PATCH', `/v1/items/${id}`, { headers: { 'Content-Type': json }, body: s({ price: 1 }), want: 415 });
await send('patch item, malformed JSON', 'PATCH', `/v1/items/${id}`, { headers: { 'Content-Type': patchCT }, body: '{', want: 400 });
await send('patch item, invalid', 'PATCH', `/v1/items/${id}`, { headers: { 'Content-Type': patchCT }, body: s({ price: -1 }), want: 422 });
await send('patch item, body over the limit', 'PATCH', `/v1/items/${id}`, { headers: { 'Content-Type': patchCT }, body: big, want: 413 });
await send('patch item, unknown', 'PATCH', `/v1/items/${unknown}`, { headers: { 'Content-Type': patchCT }, body: s({ price: 1 }), want: 404 });

// Orders.
const okey = 'edge-order-' + Date.now();
const order = await send('create order', 'POST', '/v1/orders', { headers: { 'Content-Type': json, 'Idempotency-Key': okey }, body: s({ item_id: id, quantity: 2 }), want: 201 });
const oid = order.body?.id ?? unknown;
let oetag = order.res?.headers.get('etag') ?? '"none"';
await send('create order replayed', 'POST', '/v1/orders', { headers: { 'Content-Type': json, 'Idempotency-Key': okey }, body: s({ item_id: id, quantity: 2 }), want: 201 });
await send('create order, unknown item', 'POST', '/v1/orders', { headers: { 'Content-Type': json }, body: s({ item_id: unknown, quantity: 1 }), want: 422 });
await send('create order, malformed JSON', 'POST', '/v1/orders', { headers: { 'Content-Type': json }, body: '{', want: 400 });
await send('create order, not JSON', 'POST', '/v1/orders', { headers: { 'Content-Type': 'text/plain' }, body: '{}', want: 415 });
await send('create order, body over the limit', 'POST', '/v1/orders', { headers: { 'Content-Type': json }, body: JSON.stringify({ item_id: id, quantity: 1, pad: 'x'.repeat(1 << 20) }), want: 413 });
await send('get order', 'GET', `/v1/orders/${oid}`, { want: 200 });
await send('get order, If-None-Match current', 'GET', `/v1/orders/${oid}`, { headers: { 'If-None-Match': oetag }, want: 304 });
await send('get order, unknown', 'GET', `/v1/orders/${unknown}`, { want: 404 });
await send('get order, malformed id', 'GET', '/v1/orders/x', { want: 422 });
await send('head order', 'HEAD', `/v1/orders/${oid}`, { want: 200 });
await send('head order, If-None-Match current', 'HEAD', `/v1/orders/${oid}`, { headers: { 'If-None-Match': oetag }, want: 304 });
await send('head order, unknown', 'HEAD', `/v1/orders/${unknown}`, { want: 404 });
await send('list orders of the item', 'GET', `/v1/orders?item_id=${id}&status=pending`, { want: 200 });
await send('list orders, status unknown', 'GET', '/v1/orders?status=lost', { want: 422 });
await send('list orders, cursor not ours', 'GET', '/v1/orders?cursor=bm90LW91cnM', { want: 400 });
await send('head list orders', 'HEAD', '/v1/orders', { want: 200 });
const paid = await send('pay order, If-Match current', 'PATCH', `/v1/orders/${oid}`, { headers: { 'Content-Type': patchCT, 'If-Match': oetag }, body: s({ status: 'paid' }), want: 200 });
const ostale = oetag;
oetag = paid.res?.headers.get('etag') ?? oetag;
await send('patch order, If-Match stale', 'PATCH', `/v1/orders/${oid}`, { headers: { 'Content-Type': patchCT, 'If-Match': ostale }, body: s({ status: 'cancelled' }), want: 412 });
await send('patch order, move not allowed', 'PATCH', `/v1/orders/${oid}`, { headers: { 'Content-Type': patchCT }, body: s({ status: 'pending' }), want: 409 });
await send('patch order, plain JSON', 'PATCH', `/v1/orders/${oid}`, { headers: { 'Content-Type': json }, body: s({ status: 'shipped' }), want: 415 });
await send('patch order, malformed JSON', 'PATCH', `/v1/orders/${oid}`, { headers: { 'Content-Type': patchCT }, body: '{', want: 400 });
await send('patch order, unknown status', 'PATCH', `/v1/orders/${oid}`, { headers: { 'Content-Type': patchCT }, body: s({ status: 'lost' }), want: 422 });
await send('patch order, unknown', 'PATCH', `/v1/orders/${unknown}`, { headers: { 'Content-Type': patchCT }, body: s({ status: 'paid' }), want: 404 });

// Delete last: stale, then for real, then gone.
await send('delete item, If-Match stale', 'DELETE', `/v1/items/${id}`, { headers: { 'If-Match': stale }, want: 412 });
await send('delete item, malformed id', 'DELETE', '/v1/items/x', { want: 422 });
const secondId = second.body?.id ?? unknown;
await send('delete item', 'DELETE', `/v1/items/${secondId}`, { want: 204 });
await send('delete item, gone', 'DELETE', `/v1/items/${secondId}`, { want: 404 });

console.log(`edge requests: ${count - failures} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
