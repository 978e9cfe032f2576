// Writes the typed API reference of the SDK into docs/sdk/ from the sources' JSDoc, with the
// TypeScript compiler API (no documentation generator to depend on): one Markdown file per entry
// point, every public export with its signature and its JSDoc, classes and interfaces with their
// public members. A test regenerates it and fails when docs/sdk/ is stale.
//
//   node scripts/sdk-docs.mjs            (npm run docs:sdk) writes docs/sdk/
//   node scripts/sdk-docs.mjs OUT_DIR    writes elsewhere (the staleness test)
//   node scripts/sdk-docs.mjs --check    lists exports without JSDoc and exits 1 if there are any

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** The documented entry points: the package import, its source, the output file and what it is. */
export const ENTRIES = [
  {
    name: '@smartlic/agent',
    source: 'packages/agent/src/index.ts',
    file: 'agent.md',
    members: true,
    intro:
      'The device SDK a product embeds (`packages/agent/README.md` explains how it works; `examples/` shows two products). ' +
      'It re-exports the few protocol symbols a host needs (clock, error class, time units).',
  },
  {
    name: '@smartlic/agent/testing',
    source: 'packages/agent/src/testing/index.ts',
    file: 'agent-testing.md',
    intro:
      'Test support for products and the agent: a fake authority on 127.0.0.1, an agent harness and an HTTP proxy process. ' +
      'Needs the optional peer dependencies `@peculiar/x509` and `reflect-metadata`.',
  },
  {
    name: '@smartlic/protocol/core',
    source: 'packages/protocol/src/core.ts',
    file: 'protocol-core.md',
    intro:
      'The zod-free part of the wire protocol the agent loads: canonical form, signing, PKI helpers, errors, clock, timers, message checks.',
  },
  {
    name: '@smartlic/protocol/fs',
    source: 'packages/protocol/src/fs.ts',
    file: 'protocol-fs.md',
    intro:
      'Atomic, durable replacement of a file (sync and async forms), shared by the agent and the server; importing it does no I/O.',
  },
  {
    name: '@smartlic/protocol',
    source: 'packages/protocol/src/messages.ts',
    file: 'protocol.md',
    intro:
      'What `@smartlic/protocol` adds to `@smartlic/protocol/core`: the zod schemas of the device messages and their inferred types (the server validates with them).',
  },
];

const KIND_ORDER = ['Classes', 'Functions', 'Interfaces', 'Types', 'Constants'];

/** A program over the SDK's sources; the workspace packages resolve to their sources, not their builds. */
function createProgram() {
  const options = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
    baseUrl: ROOT,
    paths: {
      '@smartlic/protocol/core': ['packages/protocol/src/core.ts'],
      '@smartlic/protocol': ['packages/protocol/src/index.ts'],
    },
  };
  return ts.createProgram(
    ENTRIES.map((e) => join(ROOT, e.source)),
    options,
  );
}

function kindOf(symbol) {
  const flags = symbol.flags;
  if (flags & ts.SymbolFlags.Class) return 'Classes';
  if (flags & ts.SymbolFlags.Function) return 'Functions';
  if (flags & ts.SymbolFlags.Interface) return 'Interfaces';
  if (flags & ts.SymbolFlags.TypeAlias) return 'Types';
  return 'Constants';
}

/** The symbol's JSDoc text and its tags (`@param`, `@example`, …) as Markdown. */
function docOf(symbol, checker) {
  const text = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
  const tags = symbol
    .getJsDocTags(checker)
    .map((tag) => {
      const body = ts.displayPartsToString(tag.text ?? []).trim();
      return tag.name === 'example' ? `Example:\n\n\`\`\`ts\n${body}\n\`\`\`` : `*@${tag.name}* ${body}`;
    })
    .join('\n\n');
  return [text, tags].filter(Boolean).join('\n\n');
}

/** A type as written in its declaration (`ErrorCode`, not its 60 members), else as the checker prints it. */
function declaredTypeText(checker, symbol, node) {
  const decl = symbol.valueDeclaration;
  if (decl && 'type' in decl && decl.type) return decl.type.getText().replace(/\s+/g, ' ');
  return typeText(checker, checker.getTypeOfSymbolAtLocation(symbol, node), node);
}

/** A type as text, in full when it is short, shortened otherwise. */
function typeText(checker, type, node) {
  const full = withoutImportPaths(checker.typeToString(type, node, ts.TypeFormatFlags.NoTruncation));
  return full.length <= 240 ? full : withoutImportPaths(checker.typeToString(type, node));
}

/**
 * `import("/home/me/smartlic/packages/protocol/src/check").Check<…>` → `Check<…>`: the checker
 * names types of other modules by absolute path, which differs on every checkout.
 */
function withoutImportPaths(text) {
  return text.replace(/import\("[^"]*"\)\./g, '');
}

const printer = ts.createPrinter({ removeComments: true });

/** A declaration as the compiler prints it, without comments or `export`: `type X = …`. */
function declarationText(node) {
  return printer
    .printNode(ts.EmitHint.Unspecified, node, node.getSourceFile())
    .replace(/^export\s+/, '')
    .replace(/ {4}/g, '  ');
}

function signatures(checker, symbol, name, node) {
  const type = checker.getTypeOfSymbolAtLocation(symbol, node);
  return type.getCallSignatures().map((s) => `function ${name}${checker.signatureToString(s, node)}`);
}

/** Public members of a class or interface, each with its signature and doc. */
function members(checker, symbol, isClass) {
  const rows = [];
  const add = (member, prefix, node) => {
    const decl = member.valueDeclaration ?? member.declarations?.[0];
    if (!decl) return;
    const mods = ts.getCombinedModifierFlags(decl);
    if (mods & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) return;
    if (member.name.startsWith('#') || member.name.startsWith('__')) return;
    const type = checker.getTypeOfSymbolAtLocation(member, node);
    let sig;
    if (member.flags & ts.SymbolFlags.Method) {
      sig = type
        .getCallSignatures()
        .map((s) => `${prefix}${member.name}${checker.signatureToString(s, node)}`)
        .join('\n');
    } else if (member.flags & ts.SymbolFlags.GetAccessor) {
      sig = `${prefix}get ${member.name}(): ${typeText(checker, type, node)}`;
    } else if (member.flags & ts.SymbolFlags.Property) {
      const optional = member.flags & ts.SymbolFlags.Optional ? '?' : '';
      const readonly = mods & ts.ModifierFlags.Readonly ? 'readonly ' : '';
      sig = `${prefix}${readonly}${member.name}${optional}: ${declaredTypeText(checker, member, node)}`;
    } else return;
    rows.push({ name: member.name, sig, doc: docOf(member, checker) });
  };
  const decl = symbol.declarations?.[0];
  if (isClass) {
    for (const member of symbol.exports?.values() ?? []) {
      if (member.flags & ts.SymbolFlags.Prototype) continue;
      add(member, 'static ', decl);
    }
    const ctorType = checker.getTypeOfSymbolAtLocation(symbol, decl);
    for (const s of ctorType.getConstructSignatures()) {
      const params = s.getParameters().map((p) => {
        const pd = p.valueDeclaration;
        return `${p.name}${pd && ts.isParameter(pd) && (pd.questionToken || pd.initializer) ? '?' : ''}: ${declaredTypeText(checker, p, decl)}`;
      });
      const ctorDecl = s.getDeclaration();
      if (ctorDecl && ts.getCombinedModifierFlags(ctorDecl) & ts.ModifierFlags.Private) continue;
      const doc = ctorDecl ? ts.displayPartsToString(s.getDocumentationComment(checker)).trim() : '';
      rows.unshift({ name: 'constructor', sig: `new ${symbol.name}(${params.join(', ')})`, doc });
    }
  }
  for (const member of symbol.members?.values() ?? []) {
    if (member.name === '__constructor') continue;
    add(member, '', decl);
  }
  return rows;
}

/** Documents one entry point: its exports by kind, alphabetically. */
function documentEntry(program, checker, entry) {
  const file = program.getSourceFile(join(ROOT, entry.source));
  const moduleSymbol = checker.getSymbolAtLocation(file);
  const items = [];
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const decl = symbol.declarations?.[0];
    if (!decl) continue;
    const name = exported.name;
    const kind = kindOf(symbol);
    const from = ts.sys.resolvePath(decl.getSourceFile().fileName).slice(ROOT.length).replace(/\\/g, '/');
    let code;
    let rows = [];
    if (kind === 'Classes') {
      const abstract = ts.getCombinedModifierFlags(decl) & ts.ModifierFlags.Abstract ? 'abstract ' : '';
      const heritage = (decl.heritageClauses ?? []).map((h) => h.getText()).join(' ');
      code = `${abstract}class ${name}${heritage ? ` ${heritage}` : ''}`;
      rows = members(checker, symbol, true);
    } else if (kind === 'Interfaces') {
      const heritage = (decl.heritageClauses ?? []).map((h) => h.getText()).join(' ');
      const params = decl.typeParameters ? `<${decl.typeParameters.map((p) => p.getText()).join(', ')}>` : '';
      code = `interface ${name}${params}${heritage ? ` ${heritage}` : ''}`;
      rows = members(checker, symbol, false);
    } else if (kind === 'Types') {
      code = declarationText(decl).replace(/^type\s+\w+/, `type ${name}`);
    } else if (kind === 'Functions') {
      code = signatures(checker, symbol, name, decl).join('\n');
    } else {
      const type = checker.getTypeOfSymbolAtLocation(symbol, decl);
      const isConst = ts.isVariableDeclaration(decl) && decl.parent.flags & ts.NodeFlags.Const;
      code = `${isConst ? 'const' : 'let'} ${name}: ${typeText(checker, type, decl)}`;
    }
    items.push({ name, kind, from, code, doc: docOf(symbol, checker), rows });
  }
  items.sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.name.localeCompare(b.name));
  return items;
}

function renderEntry(entry, items) {
  const out = [
    `# \`${entry.name}\``,
    '',
    `<!-- Generated by scripts/sdk-docs.mjs from the JSDoc of ${entry.source}: do not edit; run \`npm run docs:sdk\`. -->`,
    '',
    entry.intro,
    '',
  ];
  for (const kind of KIND_ORDER) {
    const ofKind = items.filter((i) => i.kind === kind);
    if (ofKind.length === 0) continue;
    out.push(`## ${kind}`, '', ofKind.map((i) => `[\`${i.name}\`](#${i.name.toLowerCase()})`).join(' · '), '');
    for (const item of ofKind) {
      out.push(`### ${item.name}`, '', '```ts', item.code, '```', '');
      if (item.doc) out.push(item.doc, '');
      out.push(`<sub>Defined in \`${item.from}\`.</sub>`, '');
      if (item.rows.length > 0) {
        for (const row of item.rows) {
          out.push(`- \`${row.sig.replace(/\n/g, '` / `')}\`${row.doc ? `  \n  ${row.doc.replace(/\n+/g, ' ')}` : ''}`);
        }
        out.push('');
      }
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** The Markdown of every entry point, by file name, and the exports that have no JSDoc. */
export function generate() {
  const program = createProgram();
  const checker = program.getTypeChecker();
  const files = {};
  const undocumented = [];
  const index = [
    '# SDK reference',
    '',
    '<!-- Generated by scripts/sdk-docs.mjs: do not edit; run `npm run docs:sdk`. -->',
    '',
    'Generated from the JSDoc of the sources. Start with the agent; the examples in `examples/` show it inside two products.',
    '',
  ];
  for (const entry of ENTRIES) {
    const items = documentEntry(program, checker, entry);
    for (const item of items) {
      if (!item.doc) undocumented.push(`${entry.name}: ${item.name} (${item.from})`);
      // The agent's API documents its members too (the constructor is the class's own doc).
      if (!entry.members) continue;
      for (const row of item.rows)
        if (!row.doc && row.name !== 'constructor')
          undocumented.push(`${entry.name}: ${item.name}.${row.name} (${item.from})`);
    }
    files[entry.file] = renderEntry(entry, items);
    index.push(`- [\`${entry.name}\`](${entry.file}): ${items.length} exports. ${entry.intro}`);
  }
  files['README.md'] = `${index.join('\n')}\n`;
  return { files, undocumented };
}

/** Writes the generated files into `dir`. */
export async function writeDocs(dir) {
  const { files, undocumented } = generate();
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return { files: Object.keys(files), undocumented };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === ts.sys.resolvePath(process.argv[1])) {
  const arg = process.argv[2];
  if (arg === '--check') {
    const { undocumented } = generate();
    for (const line of undocumented) console.log(`no JSDoc: ${line}`);
    process.exit(undocumented.length === 0 ? 0 : 1);
  }
  const dir = arg ?? join(ROOT, 'docs/sdk');
  const { files, undocumented } = await writeDocs(dir);
  console.log(`wrote ${files.length} files to ${dir}`);
  if (undocumented.length > 0) console.warn(`${undocumented.length} exports without JSDoc (--check lists them)`);
}
