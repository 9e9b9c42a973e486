import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accessTokenOf, requireRole, canAccess } from '../../lib/ems/access';
import type { User } from '../../lib/ems/users';

const user = (role: User['role']): User => ({ id: '1', login: 'ann', name: 'Ann', role, active: true, last_active: null, open_page: null, open_folders: [], open_factory: null, created_at: 0, updated_at: 0 });

describe('access', () => {
  it('takes the token from Authorization: Bearer, then the access_token cookie', () => {
    assert.equal(accessTokenOf({ headers: { authorization: 'Bearer abc.def' }, cookies: { access_token: 'cookie' } }), 'abc.def');
    assert.equal(accessTokenOf({ headers: { authorization: 'Basic eDp5' }, cookies: { access_token: 'cookie' } }), 'cookie');
    assert.equal(accessTokenOf({ headers: { cookie: 'theme=dark; access_token=t%2B1; x=y' } }), 't+1');
    assert.equal(accessTokenOf({ headers: {} }), undefined);
    assert.equal(accessTokenOf(undefined), undefined);
  });

  it('ranks admin over operator over viewer', () => {
    requireRole(user('admin'), 'operator');
    requireRole(user('operator'), 'operator');
    assert.throws(() => requireRole(user('viewer'), 'operator'), /needs the operator role; "ann" is a viewer/);
    assert.throws(() => requireRole(user('operator'), 'admin'), /needs the admin role/);
    assert.equal(canAccess(undefined, 'public'), true);
    assert.equal(canAccess(undefined, 'viewer'), false);
    assert.equal(canAccess(user('viewer'), 'viewer'), true);
  });
});
