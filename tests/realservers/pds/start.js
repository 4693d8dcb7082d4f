'use strict'
// Herald's real-server tests: a PLC directory (in memory) and the reference Bluesky PDS on
// loopback, on free ports, with a throw-away data directory, and one account with an app
// password. When both serve, one JSON line is printed on stdout:
//   {"ready":true,"pds":"http://127.0.0.1:PORT","plc":"http://127.0.0.1:PORT",
//    "handle":"…","did":"…","password":"…","app_password":"…","admin_password":"…"}
// The process runs until SIGTERM/SIGINT (or its stdin closes), then removes its data.
//
// The PDS declares Node >= 22; on Node 20 it needs the iterator helpers, loaded from core-js
// before anything else, and undici 7 (package.json "overrides").
require('core-js/actual/iterator')

const crypto = require('node:crypto')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const HOST = '127.0.0.1'

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, HOST, () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

async function xrpc(base, nsid, body, headers = {}) {
  const response = await fetch(`${base}/xrpc/${nsid}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`${nsid}: HTTP ${response.status}: ${text}`)
  return JSON.parse(text)
}

async function main() {
  const handle = process.env.PDS_TEST_HANDLE || 'herald.test'
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-pds-'))

  const { PlcServer, Database } = require('@did-plc/server')
  const plcPort = await freePort()
  const plc = PlcServer.create({ db: Database.mock(), port: plcPort })
  await plc.start()
  const plcUrl = `http://${HOST}:${plcPort}`

  const { PDS } = await import('@atproto/pds')
  const { Secp256k1Keypair } = await import('@atproto/crypto')
  const rotationKey = await Secp256k1Keypair.create({ exportable: true })
  const rotationHex = Buffer.from(await rotationKey.export()).toString('hex')
  const recoveryKey = (await Secp256k1Keypair.create()).did()
  const adminPassword = crypto.randomBytes(12).toString('hex')

  const pdsPort = await freePort()
  const pdsUrl = `http://${HOST}:${pdsPort}`
  const pds = await PDS.fromEnv({
    devMode: true,
    port: pdsPort,
    hostname: 'localhost',
    dataDirectory: dataDir,
    blobstoreDiskLocation: path.join(dataDir, 'blobs'),
    didPlcUrl: plcUrl,
    recoveryDidKey: recoveryKey,
    plcRotationKeyK256PrivateKeyHex: rotationHex,
    jwtSecret: crypto.randomBytes(16).toString('hex'),
    adminPassword,
    serviceHandleDomains: ['.test'],
    inviteRequired: false,
    // nothing outside loopback: no app view, moderation service or crawlers to call
    bskyAppViewUrl: 'http://127.0.0.1:9',
    bskyAppViewDid: 'did:example:invalid',
    modServiceUrl: 'http://127.0.0.1:9',
    modServiceDid: 'did:example:invalid',
    crawlers: [],
    rateLimitsEnabled: false,
  })
  await pds.start()

  const password = crypto.randomBytes(12).toString('hex')
  const account = await xrpc(pdsUrl, 'com.atproto.server.createAccount', {
    handle,
    email: `${handle.split('.')[0]}@example.invalid`,
    password,
  })
  const appPassword = await xrpc(
    pdsUrl,
    'com.atproto.server.createAppPassword',
    { name: 'herald' },
    { Authorization: `Bearer ${account.accessJwt}` },
  )

  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    try {
      await pds.destroy()
      await plc.destroy()
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true })
      process.exit(0)
    }
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.stdin.on('end', stop)
  process.stdin.resume()

  process.stdout.write(
    JSON.stringify({
      ready: true,
      pds: pdsUrl,
      plc: plcUrl,
      handle: account.handle,
      did: account.did,
      password,
      app_password: appPassword.password,
      admin_password: adminPassword,
      data_dir: dataDir,
    }) + '\n',
  )
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err)
  process.exit(1)
})
