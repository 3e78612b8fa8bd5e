// The sign-in page: sign in, then go to the page of the user's role (or ?next=).
import { signIn, me, token, explain } from '/lib/api.js';
import { home } from '/lib/session.js';

const next = new URLSearchParams(location.search).get('next');
const go = (user) => { location.replace(next && next.startsWith('/') && !next.startsWith('//') ? next : home(user)); };
if (token() && me()) go(me());

document.getElementById('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  const err = document.getElementById('error');
  err.textContent = '';
  f.querySelector('button').disabled = true;
  try {
    go(await signIn(f.username.value.trim(), f.password.value));
  } catch (e) {
    err.textContent = e.code === 'invalid_credentials' || e.status === 401 ? '用户名或密码错误' : explain(e);
  } finally {
    f.querySelector('button').disabled = false;
  }
});
