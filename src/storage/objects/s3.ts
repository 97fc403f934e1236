// The S3 ObjectStore (@aws-sdk/client-s3): objects under s3://<bucket>/<prefix>/, on AWS or any S3-compatible endpoint.

import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { ObjectStore } from "../../core/index.js";

export interface S3ObjectStoreOptions {
  /** `s3://bucket` or `s3://bucket/prefix`. */
  readonly url: string;
  /** An S3-compatible endpoint (MinIO, Ceph …); path-style addressing is used with it. */
  readonly endpoint?: string | undefined;
  readonly region?: string | undefined;
}

/** Parses `s3://bucket/prefix` into its bucket and key prefix (without a trailing slash). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw new Error(`not an s3://bucket[/prefix] URL: ${url}`);
  return { bucket: m[1]!, prefix: (m[2] ?? "").replace(/\/+$/, "") };
}

/**
 * Credentials come from the SDK's usual chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a
 * profile, an instance role). A key ending with `/` names a folder: delete removes every object
 * under it, a page of at most 1,000 at a time.
 */
export function createS3ObjectStore(options: S3ObjectStoreOptions): ObjectStore & { close(): void } {
  const { bucket, prefix } = parseS3Url(options.url);
  const client = new S3Client({
    region: options.region ?? process.env.AWS_REGION ?? "us-east-1",
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
  });
  const keyOf = (key: string) => (prefix ? `${prefix}/${key}` : key);
  return {
    name: "s3",
    async put(key, data) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: keyOf(key), Body: data }));
    },
    async get(key) {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keyOf(key) }));
        return res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
      } catch (err) {
        if (err instanceof NoSuchKey || (err as { name?: string }).name === "NoSuchKey") return null;
        throw err;
      }
    },
    async delete(key) {
      if (!key.endsWith("/")) {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: keyOf(key) }));
        return;
      }
      let token: string | undefined;
      // Each round deletes one listed page; the listing ends when S3 returns no continuation token.
      for (let round = 0; round < 100_000; round++) {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: keyOf(key), ContinuationToken: token }),
        );
        const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
        if (keys.length > 0) {
          await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
        if (!token) break;
      }
    },
    url(key) {
      return `s3://${bucket}/${keyOf(key)}`;
    },
    close() {
      client.destroy();
    },
  };
}
