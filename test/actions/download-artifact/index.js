// Stand-in for actions/download-artifact: lists the run's artifacts, picks by name or glob pattern, downloads
// each with @actions/artifact into path (merge-multiple) or path/NAME.
'use strict';
const path = require('path');
const core = require('@actions/core');
const { DefaultArtifactClient } = require('@actions/artifact');

function globToRegExp(glob) {
  const esc = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${esc}$`);
}

async function main() {
  const name = core.getInput('name');
  const pattern = core.getInput('pattern');
  const dest = path.resolve(core.getInput('path') || '.');
  const merge = core.getBooleanInput('merge-multiple');
  const client = new DefaultArtifactClient();
  const { artifacts } = await client.listArtifacts({ latest: true });
  let picked;
  if (name) {
    picked = artifacts.filter((a) => a.name === name);
    if (picked.length === 0) throw new Error(`Artifact not found: ${name}`);
  } else {
    const re = pattern ? globToRegExp(pattern) : /.*/;
    picked = artifacts.filter((a) => re.test(a.name));
  }
  core.info(`Found ${picked.length} artifact(s)`);
  for (const a of picked) {
    const into = name || merge ? dest : path.join(dest, a.name);
    await client.downloadArtifact(a.id, { path: into });
    core.info(`Artifact ${a.name} (id ${a.id}) downloaded to ${into}`);
  }
  core.setOutput('download-path', dest);
}

main().catch((err) => core.setFailed(err.message));
