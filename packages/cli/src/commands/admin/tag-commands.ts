import type { TagView } from '@smartlic/server';
import { Command } from 'commander';
import { type AdminConnection, adminRequest } from '../../admin-client.js';
import { print } from '../../output.js';

/** Defines a tag (display name, parent) through the API. */
export function defineTag(
  connection: AdminConnection,
  body: { tag: string; name?: string; parent?: string },
): Promise<TagView> {
  return adminRequest<TagView>(connection, 'POST', '/api/v1/tags', body);
}

/** `admin tag define TAG [--name DISPLAY] [--parent TAG]`: the license hierarchy. */
export function tagCommands(connect: () => AdminConnection): Command {
  const tag = new Command('tag').description('the tag catalogue and license hierarchy');
  tag
    .command('define')
    .description("define a tag's display name and parent (generic) tag: the tag is covered by the parent's pools too")
    .argument('<tag>', 'entitlement tag')
    .option('--name <display>', 'display name')
    .option('--parent <tag>', 'parent (generic) tag')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { name?: string; parent?: string; json?: boolean }) => {
      const view = await defineTag(connect(), {
        tag: name,
        ...(opts.name ? { name: opts.name } : {}),
        ...(opts.parent ? { parent: opts.parent } : {}),
      });
      print(view, opts, (v) => `Defined ${v.tag}${v.parent ? ` (parent ${v.parent})` : ''}`);
    });
  tag
    .command('list')
    .description('list the tag catalogue')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const tags = await adminRequest<TagView[]>(connect(), 'GET', '/api/v1/tags');
      print(tags, opts, (list) =>
        list.length === 0
          ? 'No tags defined.'
          : list.map((t) => `${t.tag}${t.parent ? ` → ${t.parent}` : ''}`).join('\n'),
      );
    });
  return tag;
}
