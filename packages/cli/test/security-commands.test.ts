import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { decodeJwt, exportSPKI, generateKeyPair, jwtVerify } from 'jose'
import { checkConfig } from '../src/commands/check.js'
import { testRules } from '../src/commands/rules.js'
import { mintToken } from '../src/commands/token.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sb-cli-sec-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const RULES = `channels:
  'chat/*':   { subscribe: 'user != null', publish: 'user != null && size(data.text) <= 20' }
records:
  'todos/*':  { read: 'true', write: 'user.id == data.owner', delete: 'user.id == old.owner' }
rpc:
  'math/*':   { provide: '"worker" in user.roles', call: 'true' }
presence:
  '**':       { join: 'user != null', read: 'true' }
`

function run(rules: string, cases: string): { code: number; out: string[] } {
  const out: string[] = []
  const code = testRules(file('rules.yaml', rules), file('cases.yaml', cases), (l) => out.push(l))
  return { code, out }
}

describe('switchboard rules test', () => {
  it('passes a table whose expectations hold (exit 0, summary)', () => {
    const { code, out } = run(
      RULES,
      `cases:
  - { description: members subscribe, user: { id: alice }, kind: channels, action: subscribe, name: chat/lobby, expect: allow }
  - { description: anonymous cannot, kind: channels, action: subscribe, name: chat/lobby, expect: deny }
  - { user: { id: alice }, kind: channels, action: publish, name: chat/lobby, data: { text: hi }, expect: allow }
  - { user: { id: alice }, kind: channels, action: publish, name: chat/lobby, data: { text: 'way more than twenty characters' }, expect: deny }
  - { user: { id: bob }, kind: records, action: write, name: todos/1, data: { owner: alice }, expect: deny }
  - { user: { id: bob }, kind: records, action: delete, name: todos/1, old: { owner: alice }, expect: deny }
  - { user: { id: alice }, kind: records, action: delete, name: todos/1, old: { owner: alice }, expect: allow }
  - { user: { id: w, roles: [worker] }, kind: rpc, action: provide, name: math/add, expect: allow }
  - { user: { id: alice, roles: [] }, kind: rpc, action: provide, name: math/add, expect: deny }
  - { user: null, kind: presence, action: join, name: chat/lobby, expect: deny }
  - { user: null, kind: channels, action: history, name: chat/lobby, expect: deny }
`,
    )
    expect(out).toEqual(['11 cases: 11 passed, 0 failed'])
    expect(code).toBe(0)
  })

  it('prints each mismatch with the case line, the request and the deciding rule; exits 1', () => {
    const { code, out } = run(
      RULES,
      `- description: ok
  user: { id: alice }
  kind: channels
  action: subscribe
  name: chat/lobby
  expect: allow
- description: wrong expectation
  user: { id: bob }
  kind: records
  action: write
  name: todos/1
  data: { owner: alice }
  expect: allow
- { kind: channels, action: publish, name: nowhere/1, expect: allow }
- { kind: records, action: write, name: todos/2, data: {}, expect: allow }
`,
    )
    expect(code).toBe(1)
    expect(out).toHaveLength(4)
    expect(out[0]).toMatch(
      /^FAIL .*cases\.yaml:7 "wrong expectation": records write todos\/1 as user "bob": expected allow, got deny — .*rules\.yaml:4 records 'todos\/\*' write: user\.id == data\.owner$/,
    )
    expect(out[1]).toMatch(
      /cases\.yaml:14: channels publish nowhere\/1 as anonymous: expected allow, got deny — no rule matches: denied by default$/,
    )
    expect(out[2]).toMatch(/cases\.yaml:15: .* \(error: No such key: id\)$/)
    expect(out[3]).toBe('4 cases: 1 passed, 3 failed')
  })

  it('a rule that does not compile is reported with file, line and rule text (no case runs)', () => {
    const { code, out } = run(
      "channels:\n  'chat/*': { subscribe: 'user.id ==' }\n",
      '- { kind: channels, action: subscribe, name: chat/a, expect: deny }\n',
    )
    expect(code).toBe(1)
    expect(out).toHaveLength(1)
    expect(out[0]).toMatch(/rules\.yaml:2:\d+ channels\.chat\/\*\.subscribe: syntax error: .* in rule "user\.id =="$/)
  })

  it('invalid cases are reported by line', () => {
    const { code, out } = run(
      RULES,
      '- { kind: channel, action: subscribe, name: a, expect: allow }\n- { kind: channels, action: read, name: a, expect: allow }\n- { kind: channels, action: subscribe, name: a, expect: maybe }\n- { kind: channels, action: subscribe, name: a, expect: deny, user: alice }\n- { kind: channels, action: subscribe, name: a, expect: deny, extra: 1 }\n',
    )
    expect(code).toBe(1)
    expect(out.map((l) => /cases\.yaml:(\d+)/.exec(l)?.[1])).toEqual(['1', '2', '3', '4', '5'])
    expect(out[0]).toMatch(/kind must be one of channels, records, rpc, presence/)
    expect(out[1]).toMatch(/action must be one of subscribe, publish, history, listen for channels/)
    expect(out[2]).toMatch(/expect must be allow or deny/)
    expect(out[3]).toMatch(/user must be null \(anonymous\) or a mapping with a string id/)
    expect(out[4]).toMatch(/unknown key extra/)
  })
})

describe('switchboard token', () => {
  it('mints an HS token with the configured issuer, audience, claims and lifetime', async () => {
    const secret = 's'.repeat(40)
    const config = file(
      'switchboard.yaml',
      `auth:\n  jwt: { secret: ${secret}, issuer: https://auth.example, audience: [switchboard, other] }\n`,
    )
    const token = await mintToken({ config, user: 'alice', claims: '{"roles":["admin"]}', expires: '10m' })
    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(secret), {
      issuer: 'https://auth.example',
      audience: 'switchboard',
    })
    expect(protectedHeader.alg).toBe('HS256')
    expect(payload).toMatchObject({ sub: 'alice', roles: ['admin'] })
    expect((payload.exp as number) - (payload.iat as number)).toBe(600)
  })

  it('uses the first HS algorithm the config allows', async () => {
    const config = file('switchboard.yaml', `auth:\n  jwt: { secret: ${'s'.repeat(40)}, algorithms: [HS512] }\n`)
    const token = await mintToken({ config, user: 'bob', expires: '1h' })
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).alg).toBe('HS512')
    expect(decodeJwt(token).sub).toBe('bob')
  })

  it('fails clearly without an HS secret, and on bad claims', async () => {
    const none = file('none.yaml', 'server: { port: 1234 }\n')
    await expect(mintToken({ config: none, user: 'a', expires: '1h' })).rejects.toThrow(/no auth\.jwt\.secret/)
    const { publicKey } = await generateKeyPair('RS256', { extractable: true })
    const pem = (await exportSPKI(publicKey)).replace(/\n/g, '\\n')
    const rs = file('rs.yaml', `auth:\n  jwt: { publicKey: "${pem}" }\n`)
    await expect(mintToken({ config: rs, user: 'a', expires: '1h' })).rejects.toThrow(/no auth\.jwt\.secret/)
    const hs = file('hs.yaml', `auth:\n  jwt: { secret: ${'s'.repeat(40)} }\n`)
    await expect(mintToken({ config: hs, user: 'a', claims: '[1]', expires: '1h' })).rejects.toThrow(
      /--claims must be a JSON object/,
    )
    await expect(mintToken({ config: hs, user: 'a', claims: '{', expires: '1h' })).rejects.toThrow(
      /--claims is not valid JSON/,
    )
    await expect(mintToken({ config: hs, user: 'a', expires: 'soon' })).rejects.toThrow(/duration/)
  })
})

describe('switchboard check (security)', () => {
  it('reports permission rules that do not compile, with file, line and rule', async () => {
    const rules = file('permissions.yaml', "channels:\n  'chat/*':\n    subscribe: 'true'\n    publish: usr.id == 1\n")
    const config = file('switchboard.yaml', `permissions: ${rules}\n`)
    const issues = await checkConfig(config)
    expect(issues).toHaveLength(1)
    expect(issues[0]).toMatchObject({ line: 4, path: 'channels.chat/*.publish' })
    expect(issues[0]!.message).toMatch(/Unknown variable: usr in rule "usr\.id == 1"/)
  })

  it('reports a JWT algorithm the key cannot verify and a missing JWKS file', async () => {
    const algs = file('a.yaml', `auth:\n  jwt: { secret: ${'s'.repeat(40)}, algorithms: [RS256] }\n`)
    expect((await checkConfig(algs))[0]).toMatchObject({
      path: 'auth.jwt.algorithms',
      message: expect.stringMatching(/RS256 cannot be used with an HMAC secret/),
    })
    const jwks = file('b.yaml', 'auth:\n  jwt: { jwksFile: ./missing.json }\n')
    expect((await checkConfig(jwks))[0]).toMatchObject({
      path: 'auth.jwt.jwksFile',
      message: expect.stringMatching(/file not found/),
    })
    const two = file('c.yaml', `auth:\n  jwt: { secret: ${'s'.repeat(40)}, jwksFile: ./x.json }\n`)
    expect((await checkConfig(two))[0]).toMatchObject({ path: 'auth.jwt', message: 'set only one of secret, jwksFile' })
  })

  it('reports an unsafe production config', async () => {
    const config = file('p.yaml', 'mode: production\n')
    expect((await checkConfig(config))[0]).toMatchObject({ path: 'auth.anonymous' })
    expect(await checkConfig(file('q.yaml', 'mode: production\nauth: { anonymous: true }\n'))).toEqual([])
  })
})
