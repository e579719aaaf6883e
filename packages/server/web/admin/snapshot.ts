// The snapshot's shape and the RPC names are the server's own (src/admin/shared.ts).
export { ADMIN_RPC as ADMIN, type AdminSnapshot } from '../../src/admin/shared.js'
