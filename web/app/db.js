// The phone's own store (IndexedDB), one database per signed-in technician:
//   orders  {id, view, known, fetchedAt}  the last order view the server answered, and
//           `known`: the version the phone knows (what its next If-Match says)
//   queue   {seq, …}                      actions waiting to be sent, in order
//   kv      {k, v}                        the job list, the price list, payments
// Everything a technician did offline lives here until the server has it.

let dbp = null;
let dbName = null;

export function open(userId) {
  const name = `dispatch-tech-${userId}`;
  if (dbp && dbName === name) return dbp;
  dbName = name;
  dbp = new Promise((resolve, reject) => {
    const r = indexedDB.open(name, 1);
    r.onupgradeneeded = () => {
      const db = r.result;
      db.createObjectStore('orders', { keyPath: 'id' });
      db.createObjectStore('queue', { keyPath: 'seq', autoIncrement: true });
      db.createObjectStore('kv', { keyPath: 'k' });
    };
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  return dbp;
}

const done = (req) => new Promise((resolve, reject) => {
  req.onsuccess = () => resolve(req.result);
  req.onerror = () => reject(req.error);
});

async function store(name, mode = 'readonly') {
  const db = await dbp;
  return db.transaction(name, mode).objectStore(name);
}

export const get = async (name, key) => done((await store(name)).get(key));
export const all = async (name) => done((await store(name)).getAll());
export const put = async (name, value) => done((await store(name, 'readwrite')).put(value));
export const del = async (name, key) => done((await store(name, 'readwrite')).delete(key));

export const kvGet = async (k, fallback = null) => (await get('kv', k))?.v ?? fallback;
export const kvPut = (k, v) => put('kv', { k, v });
