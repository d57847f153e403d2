// Stand-in for actions/upload-artifact: uploads the files under each `path` with @actions/artifact.
'use strict';
const fs = require('fs');
const path = require('path');
const core = require('@actions/core');
const { DefaultArtifactClient } = require('@actions/artifact');

function walk(p, out) {
  const st = fs.statSync(p);
  if (st.isDirectory()) {
    for (const e of fs.readdirSync(p).sort()) walk(path.join(p, e), out);
  } else if (st.isFile()) {
    out.push(p);
  }
}

async function main() {
  const name = core.getInput('name') || 'artifact';
  const paths = core.getMultilineInput('path', { required: true }).map((p) => path.resolve(p));
  const ifNone = core.getInput('if-no-files-found') || 'warn';
  const files = [];
  for (const p of paths) {
    if (fs.existsSync(p)) walk(p, files);
  }
  if (files.length === 0) {
    const msg = `No files were found with the provided path: ${paths.join(', ')}. No artifacts will be uploaded.`;
    if (ifNone === 'error') throw new Error(msg);
    if (ifNone === 'warn') core.warning(msg);
    else core.info(msg);
    return;
  }
  // Like the official action: a single directory is the root, so names inside the artifact are relative to it.
  const root = paths.length === 1 && fs.statSync(paths[0]).isDirectory() ? paths[0] : path.dirname(paths[0]);
  const client = new DefaultArtifactClient();
  const res = await client.uploadArtifact(name, files, root, {});
  core.info(`Artifact ${name} has been successfully uploaded! id=${res.id} files=${files.length}`);
  core.setOutput('artifact-id', String(res.id));
}

main().catch((err) => core.setFailed(err.message));
