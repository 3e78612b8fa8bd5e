// Who is signed in, where they belong, and the guard each page runs first.
import { me, token, signOut } from '/lib/api.js';

export const ROLE = { admin: '管理员', manager: '经理', agent: '客服', technician: '技术员', finance: '财务' };

/** The page a role starts on. */
export function home(user) {
  if (!user) return '/';
  if (user.role === 'technician') return '/app/';
  if (user.role === 'finance') return '/desk/#/finance';
  return '/desk/';
}

/**
 * The signed-in user, or a redirect to the sign-in page. Pages do not second-guess the
 * role: they ask the API, and when it refuses (403) they say so plainly (`refusal`).
 */
export function requireUser() {
  const user = token() && me();
  if (!user) { signOut(); return null; }
  return user;
}

/** The sentence a page shows when the API refuses the signed-in role its data. */
export function refusal(user, what) {
  return `您的账户（${ROLE[user?.role] || user?.role || '未知角色'}）无权查看${what}。服务器已拒绝该请求（403）。`;
}
export { signOut };
