// Registry records on the Mongo store: created over REST, mirrored into registry_core_data in the seed's document shape, and indexed again after a restart.

import { MongoClient } from "mongodb";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type MongoTestServer, startMongoServer } from "../helpers/mongo-server.js";
import { startTestServer } from "../helpers/server.js";

let mongo: MongoTestServer;
beforeAll(async () => {
  mongo = await startMongoServer();
});
afterAll(async () => {
  await mongo.stop();
});

it("mirrors records into registry_core_data and rebuilds the query index from the store", async () => {
  const config = { mongoUrl: mongo.url, mongoDatabase: `registry_${process.pid}_${Date.now()}` };
  let srv = await startTestServer({ config });
  const client = new MongoClient(mongo.url);
  try {
    const create = await fetch(`${srv.url}/registry/create`, {
      method: "POST",
      body: JSON.stringify({
        registry_id: "demo-registry",
        registry_url: "https://demo.example.com",
        registry_search_data: { registry_type: "tool", registry_search_tags: ["AI", "demo"] },
      }),
    });
    expect(create.status).toBe(201);
    const update = await fetch(`${srv.url}/registry/update`, {
      method: "PUT",
      body: JSON.stringify({ registry_id: "demo-registry", registry_api_index: "/v2" }),
    });
    expect(update.status).toBe(200);

    const docs = await client
      .db(config.mongoDatabase)
      .collection("registry_core_data")
      .find({}, { projection: { _id: 0 } })
      .toArray();
    expect(docs).toEqual([
      {
        registry_id: "demo-registry",
        registry_url: "https://demo.example.com",
        registry_api_index: "/v2",
        registry_documentation_s3_url: null,
        registry_client_sdk_s3_url: null,
        registry_acl_config_info: {},
        registry_asset_id: null,
        health_check_api: null,
        registry_search_data: {
          registry_id: "demo-registry",
          registry_type: "tool",
          registry_sub_type: null,
          registry_metadata: {},
          registry_search_tags: ["AI", "demo"],
          registry_search_description: null,
        },
      },
    ]);

    await srv.stop();
    srv = await startTestServer({ config });
    const byTags = (await (
      await fetch(`${srv.url}/registry/query/by-tags`, { method: "POST", body: JSON.stringify({ tags: ["demo"] }) })
    ).json()) as { registries: { registry_id: string; registry_api_index: string }[] };
    expect(byTags.registries.map((r) => [r.registry_id, r.registry_api_index])).toEqual([["demo-registry", "/v2"]]);

    expect((await fetch(`${srv.url}/registry/delete/demo-registry`, { method: "DELETE" })).status).toBe(200);
    expect(await client.db(config.mongoDatabase).collection("registry_core_data").countDocuments()).toBe(0);
  } finally {
    await client.close();
    await srv.dispose();
  }
});
