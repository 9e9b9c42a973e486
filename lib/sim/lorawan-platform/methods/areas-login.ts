/** comApi.getAreaOrg and comApi.toLogin (the session itself is handled by the server). */
import type { Handler } from './types';

export const getAreaOrg: Handler = ({ platform, admin }) => {
  const visible = platform.visible(admin);
  return { errmsg: 'Add Successful!!!', data: platform.areas.filter((a) => visible.has(a.areaid)) };
};

export const toLogin: Handler = ({ platform, admin, session }) => ({
  errmsg: 'Login successfully',
  value: {
    adminId: admin.adminId, email: admin.email, username: admin.username, name: admin.name, telPhone: admin.telPhone,
    manageArea: admin.manageArea.map((id) => { const a = platform.area(id)!; return { areaId: a.areaid, areaName: a.areaName, parentId: a.parentId }; }),
    equipmentModel: admin.equipmentModel,
    apiToken: session?.apiToken,
  },
});

export const logout: Handler = () => ({ errmsg: 'Logout successfully' });
