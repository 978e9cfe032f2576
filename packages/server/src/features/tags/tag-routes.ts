import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { actorOf } from '../../http/route-access.js';
import { adminRoute } from '../../http/route-config.js';
import { NameInput, parseInput, TagInput } from '../../validation.js';
import { target } from '../access/route-targets.js';
import type { TagService } from './tag-service.js';

export const DefineTagBody = z.object({
  tag: TagInput,
  name: NameInput.optional(),
  parent: TagInput.nullable().optional(),
});

/** Admin routes of the tag catalogue (license hierarchy). */
export function registerTagRoutes(app: FastifyInstance, tags: TagService): void {
  app.post(
    '/api/v1/tags',
    {
      config: adminRoute('write', target.system, {
        summary: 'Define a tag of the license hierarchy (name, parent)',
        body: DefineTagBody,
      }),
    },
    async (request) => {
      const body = parseInput(DefineTagBody, request.body);
      return tags.defineTag(body, actorOf(request));
    },
  );
  app.get(
    '/api/v1/tags',
    {
      // Reading is for every key: each role reads licenses somewhere (every role allows read,
      // and every user holds one), and license rows name tags and parents, so the tree (global
      // product tags, no account data) is needed to read them. Defining tags stays owner-only.
      config: adminRoute('read', target.any, { summary: 'The tag catalogue with parents' }),
    },
    async () => tags.listTags(),
  );
}
