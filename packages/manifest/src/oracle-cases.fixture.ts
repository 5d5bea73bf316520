/**
 * Small hand-written manifests, each about quirks of OSBuild's manifest loading, with the text that
 * real OSBuild printed for them: `osbuild --inspect` of osbuild 191 (Python 3.11, python3-jsonschema
 * 4.10.3) on Debian 12, with OSBuild's own libdir. They use OSBuild's real module types (noop stage
 * and input, loopback/luks2/lvm2.lv devices, ext4 mounts) so that OSBuild accepted them, and each is
 * written byte for byte as OSBuild read it. Where a build pipeline names no runner, OSBuild printed
 * the host's runner, `org.osbuild.debian`.
 */

export interface OracleCase {
  /** The manifest text given to OSBuild. */
  manifest: string;
  /** What `osbuild --inspect` printed, without the final newline. */
  inspect: string;
}

/** The three forms of `references`; pipeline references without `name:`; source references. */
export const REFERENCES: OracleCase = {
  manifest: `{
  "version": "2",
  "pipelines": [
    {"name": "tree", "stages": [{"type": "org.osbuild.noop", "options": {"n": 1}}]},
    {"name": "list", "stages": [{"type": "org.osbuild.noop", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": ["name:tree"]}}}]},
    {"name": "object", "stages": [{"type": "org.osbuild.noop", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": {"name:tree": {}}}}}]},
    {"name": "objects", "stages": [{"type": "org.osbuild.noop", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": [{"id": "name:tree", "options": {}}]}}}]},
    {"name": "objects-no-options", "stages": [{"type": "org.osbuild.noop", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": [{"id": "name:tree"}]}}}]},
    {"name": "other-input-name", "stages": [{"type": "org.osbuild.noop", "inputs": {"u": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": ["name:tree"]}}}]},
    {"name": "with-options", "stages": [{"type": "org.osbuild.noop", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": {"name:tree": {"k": "v"}}}}}]},
    {"name": "no-prefix", "stages": [{"type": "org.osbuild.noop", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": ["tree"]}}}]},
    {"name": "no-prefix-and-name", "stages": [{"type": "org.osbuild.noop", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": ["tree", "name:tree"]}}}]},
    {"name": "empty", "stages": [{"type": "org.osbuild.noop", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": {}}}}]},
    {"name": "source-list", "stages": [{"type": "org.osbuild.noop", "inputs": {"f": {"type": "org.osbuild.noop", "origin": "org.osbuild.source", "references": ["sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]}}}]},
    {"name": "source-object", "stages": [{"type": "org.osbuild.noop", "inputs": {"f": {"type": "org.osbuild.noop", "origin": "org.osbuild.source", "references": {"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": {}}}}}]},
    {"name": "source-objects", "stages": [{"type": "org.osbuild.noop", "inputs": {"f": {"type": "org.osbuild.noop", "origin": "org.osbuild.source", "references": [{"id": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "options": {}}]}}}]}
  ],
  "sources": {"org.osbuild.curl": {"items": {"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": "https://example.org/a"}}}
}`,
  inspect: `{"version": "2", "pipelines": [{"name": "tree", "stages": [{"type": "org.osbuild.noop", "id": "950778ef3dd8ccc007931a1b13a40ced8417551bc9914b45dd9839724ec9df8f", "options": {"n": 1}}]}, {"name": "list", "stages": [{"type": "org.osbuild.noop", "id": "10d0bf36376d6ab544795052d9a8556ed6fb3fd88de7ec666884c38ba869011d", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": {"950778ef3dd8ccc007931a1b13a40ced8417551bc9914b45dd9839724ec9df8f": {}}}}}]}, {"name": "object", "stages": [{"type": "org.osbuild.noop", "id": "10d0bf36376d6ab544795052d9a8556ed6fb3fd88de7ec666884c38ba869011d", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": {"950778ef3dd8ccc007931a1b13a40ced8417551bc9914b45dd9839724ec9df8f": {}}}}}]}, {"name": "objects", "stages": [{"type": "org.osbuild.noop", "id": "10d0bf36376d6ab544795052d9a8556ed6fb3fd88de7ec666884c38ba869011d", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": {"950778ef3dd8ccc007931a1b13a40ced8417551bc9914b45dd9839724ec9df8f": {}}}}}]}, {"name": "objects-no-options", "stages": [{"type": "org.osbuild.noop", "id": "10d0bf36376d6ab544795052d9a8556ed6fb3fd88de7ec666884c38ba869011d", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": {"950778ef3dd8ccc007931a1b13a40ced8417551bc9914b45dd9839724ec9df8f": {}}}}}]}, {"name": "other-input-name", "stages": [{"type": "org.osbuild.noop", "id": "f7c1f322c3f0d6504560a7edce4e655ef80db8ab372ec2eb56832390825549a0", "inputs": {"u": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": {"950778ef3dd8ccc007931a1b13a40ced8417551bc9914b45dd9839724ec9df8f": {}}}}}]}, {"name": "with-options", "stages": [{"type": "org.osbuild.noop", "id": "c512d92da2ba57187350b0d71d26b3cd65603d6a2b53d8ebd4172666a8c5e137", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": {"950778ef3dd8ccc007931a1b13a40ced8417551bc9914b45dd9839724ec9df8f": {"k": "v"}}}}}]}, {"name": "no-prefix", "stages": [{"type": "org.osbuild.noop", "id": "04868fb8bd312fc0432327b6ff85292cabd6c47bbe46917564e76ccfc2504a70", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline"}}}]}, {"name": "no-prefix-and-name", "stages": [{"type": "org.osbuild.noop", "id": "10d0bf36376d6ab544795052d9a8556ed6fb3fd88de7ec666884c38ba869011d", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": {"950778ef3dd8ccc007931a1b13a40ced8417551bc9914b45dd9839724ec9df8f": {}}}}}]}, {"name": "empty", "stages": [{"type": "org.osbuild.noop", "id": "04868fb8bd312fc0432327b6ff85292cabd6c47bbe46917564e76ccfc2504a70", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline"}}}]}, {"name": "source-list", "stages": [{"type": "org.osbuild.noop", "id": "4e4291aa93cb1c162854d3093a4b40f88aabe45cf7b9773ab57b19d95ec94908", "inputs": {"f": {"type": "org.osbuild.noop", "origin": "org.osbuild.source", "references": {"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": {}}}}}]}, {"name": "source-object", "stages": [{"type": "org.osbuild.noop", "id": "4e4291aa93cb1c162854d3093a4b40f88aabe45cf7b9773ab57b19d95ec94908", "inputs": {"f": {"type": "org.osbuild.noop", "origin": "org.osbuild.source", "references": {"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": {}}}}}]}, {"name": "source-objects", "stages": [{"type": "org.osbuild.noop", "id": "4e4291aa93cb1c162854d3093a4b40f88aabe45cf7b9773ab57b19d95ec94908", "inputs": {"f": {"type": "org.osbuild.noop", "origin": "org.osbuild.source", "references": {"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": {}}}}}]}], "sources": {"org.osbuild.curl": {"items": {"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": "https://example.org/a"}}}}`,
};

/** Devices whose parents come in any order, devices without mounts, device names like "2". */
export const DEVICES: OracleCase = {
  manifest: `{
  "version": "2",
  "pipelines": [
    {"name": "parents-first", "stages": [{"type": "org.osbuild.noop", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}, "luks": {"type": "org.osbuild.luks2", "parent": "disk", "options": {"passphrase": "secret"}}, "lv": {"type": "org.osbuild.lvm2.lv", "parent": "luks", "options": {"volume": "root"}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "source": "lv", "target": "/"}]}]},
    {"name": "children-first", "stages": [{"type": "org.osbuild.noop", "devices": {"lv": {"type": "org.osbuild.lvm2.lv", "parent": "luks", "options": {"volume": "root"}}, "luks": {"type": "org.osbuild.luks2", "parent": "disk", "options": {"passphrase": "secret"}}, "disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "source": "lv", "target": "/"}]}]},
    {"name": "mixed", "stages": [{"type": "org.osbuild.noop", "devices": {"luks": {"type": "org.osbuild.luks2", "parent": "disk", "options": {"passphrase": "secret"}}, "lv": {"type": "org.osbuild.lvm2.lv", "parent": "luks", "options": {"volume": "root"}}, "disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "source": "lv", "target": "/"}]}]},
    {"name": "no-mounts", "stages": [{"type": "org.osbuild.noop", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}, "luks": {"type": "org.osbuild.luks2", "parent": "disk", "options": {"passphrase": "secret"}}, "lv": {"type": "org.osbuild.lvm2.lv", "parent": "luks", "options": {"volume": "root"}}}}]},
    {"name": "no-devices", "stages": [{"type": "org.osbuild.noop"}]},
    {"name": "numeric-names", "stages": [{"type": "org.osbuild.noop", "devices": {"b": {"type": "org.osbuild.loopback", "options": {"filename": "b.img"}}, "2": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img"}}, "1": {"type": "org.osbuild.luks2", "parent": "2", "options": {"passphrase": "secret"}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "source": "1", "target": "/"}]}]}
  ]
}`,
  inspect: `{"version": "2", "pipelines": [{"name": "parents-first", "stages": [{"type": "org.osbuild.noop", "id": "b9066b146c60e48767878a87ad3453be372ca9612038787fe0c149d866876385", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}, "luks": {"type": "org.osbuild.luks2", "options": {"passphrase": "secret"}}, "lv": {"type": "org.osbuild.lvm2.lv", "options": {"volume": "root"}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "target": "/", "source": "lv"}]}]}, {"name": "children-first", "stages": [{"type": "org.osbuild.noop", "id": "b9066b146c60e48767878a87ad3453be372ca9612038787fe0c149d866876385", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}, "luks": {"type": "org.osbuild.luks2", "options": {"passphrase": "secret"}}, "lv": {"type": "org.osbuild.lvm2.lv", "options": {"volume": "root"}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "target": "/", "source": "lv"}]}]}, {"name": "mixed", "stages": [{"type": "org.osbuild.noop", "id": "b9066b146c60e48767878a87ad3453be372ca9612038787fe0c149d866876385", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}, "luks": {"type": "org.osbuild.luks2", "options": {"passphrase": "secret"}}, "lv": {"type": "org.osbuild.lvm2.lv", "options": {"volume": "root"}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "target": "/", "source": "lv"}]}]}, {"name": "no-mounts", "stages": [{"type": "org.osbuild.noop", "id": "beda46704765a47e6d4f44aff22168ae36866c9c0e6e11552b775b77776b2969", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}, "luks": {"type": "org.osbuild.luks2", "options": {"passphrase": "secret"}}, "lv": {"type": "org.osbuild.lvm2.lv", "options": {"volume": "root"}}}}]}, {"name": "no-devices", "stages": [{"type": "org.osbuild.noop", "id": "beda46704765a47e6d4f44aff22168ae36866c9c0e6e11552b775b77776b2969"}]}, {"name": "numeric-names", "stages": [{"type": "org.osbuild.noop", "id": "14b7a7865981fae1ef48ade325f7b302206a26eea6fc216db9eab282b3a7495b", "devices": {"b": {"type": "org.osbuild.loopback", "options": {"filename": "b.img"}}, "2": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img"}}, "1": {"type": "org.osbuild.luks2", "options": {"passphrase": "secret"}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "target": "/", "source": "1"}]}]}]}`,
};

/** Mounts with and without partition (1, 1.0, 0), target and options, and their order. */
export const MOUNTS: OracleCase = {
  manifest: `{
  "version": "2",
  "pipelines": [
    {"name": "plain", "stages": [{"type": "org.osbuild.noop", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "source": "disk", "target": "/"}]}]},
    {"name": "partition-1", "stages": [{"type": "org.osbuild.noop", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "source": "disk", "target": "/", "partition": 1}]}]},
    {"name": "partition-1.0", "stages": [{"type": "org.osbuild.noop", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "source": "disk", "target": "/", "partition": 1.0}]}]},
    {"name": "partition-0", "stages": [{"type": "org.osbuild.noop", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "source": "disk", "target": "/", "partition": 0}]}]},
    {"name": "empty-target", "stages": [{"type": "org.osbuild.noop", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "source": "disk", "target": ""}]}]},
    {"name": "options", "stages": [{"type": "org.osbuild.noop", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "source": "disk", "target": "/", "options": {"readonly": true}}]}]},
    {"name": "empty-options", "stages": [{"type": "org.osbuild.noop", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "source": "disk", "target": "/", "options": {}}]}]},
    {"name": "two", "stages": [{"type": "org.osbuild.noop", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}}, "mounts": [{"name": "boot", "type": "org.osbuild.ext4", "source": "disk", "target": "/boot", "partition": 2}, {"name": "root", "type": "org.osbuild.ext4", "source": "disk", "target": "/", "partition": 3}]}]},
    {"name": "two-swapped", "stages": [{"type": "org.osbuild.noop", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "source": "disk", "target": "/", "partition": 3}, {"name": "boot", "type": "org.osbuild.ext4", "source": "disk", "target": "/boot", "partition": 2}]}]}
  ]
}`,
  inspect: `{"version": "2", "pipelines": [{"name": "plain", "stages": [{"type": "org.osbuild.noop", "id": "12ece18c0b3b192f90897b3589a61f6265d0f3d9a0e6d3b4891b3027f8ee056d", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "target": "/", "source": "disk"}]}]}, {"name": "partition-1", "stages": [{"type": "org.osbuild.noop", "id": "b8d9fa365862635b09fe50c2ea0b6066bbf7d4c150c1f0f687d9bdee92a87dae", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "target": "/", "source": "disk", "partition": 1}]}]}, {"name": "partition-1.0", "stages": [{"type": "org.osbuild.noop", "id": "57080379d923ac910a518cc63ffd63d0f3c10657dd729550c66e826f4938c475", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "target": "/", "source": "disk", "partition": 1.0}]}]}, {"name": "partition-0", "stages": [{"type": "org.osbuild.noop", "id": "12ece18c0b3b192f90897b3589a61f6265d0f3d9a0e6d3b4891b3027f8ee056d", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "target": "/", "source": "disk"}]}]}, {"name": "empty-target", "stages": [{"type": "org.osbuild.noop", "id": "f7e00c090e4fb11f8d59e6aef6d474741aa976096c1dcd1d8afe011f597d7e00", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "target": "", "source": "disk"}]}]}, {"name": "options", "stages": [{"type": "org.osbuild.noop", "id": "7eadb9d4415a9aa75211ad35ce2069a80f6e9ea3a5d6fd43501f18cdeaf3bb54", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "target": "/", "source": "disk", "options": {"readonly": true}}]}]}, {"name": "empty-options", "stages": [{"type": "org.osbuild.noop", "id": "12ece18c0b3b192f90897b3589a61f6265d0f3d9a0e6d3b4891b3027f8ee056d", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "target": "/", "source": "disk"}]}]}, {"name": "two", "stages": [{"type": "org.osbuild.noop", "id": "96d855d565cc495132e9c8868c4bfa193dbed9a03ded11494cfb89844d6114e6", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}}, "mounts": [{"name": "boot", "type": "org.osbuild.ext4", "target": "/boot", "source": "disk", "partition": 2}, {"name": "root", "type": "org.osbuild.ext4", "target": "/", "source": "disk", "partition": 3}]}]}, {"name": "two-swapped", "stages": [{"type": "org.osbuild.noop", "id": "db47b159fe7786f95bf7ad57673ac49e95c3f5e75f6ee44d5aa49f6296fe9040", "devices": {"disk": {"type": "org.osbuild.loopback", "options": {"filename": "disk.img", "partscan": true}}}, "mounts": [{"name": "root", "type": "org.osbuild.ext4", "target": "/", "source": "disk", "partition": 3}, {"name": "boot", "type": "org.osbuild.ext4", "target": "/boot", "source": "disk", "partition": 2}]}]}]}`,
};

/** Integers, floats written `1.0`/`1E0`/`1.000`, integers beyond 2^53, overflow, NaN. */
export const NUMBERS: OracleCase = {
  manifest: `{
  "version": "2",
  "pipelines": [
    {"name": "int", "stages": [{"type": "org.osbuild.noop", "options": {"x": 1}}]},
    {"name": "float", "stages": [{"type": "org.osbuild.noop", "options": {"x": 1.0}}]},
    {"name": "float-exponent", "stages": [{"type": "org.osbuild.noop", "options": {"x": 1E0}}]},
    {"name": "float-zeros", "stages": [{"type": "org.osbuild.noop", "options": {"x": 1.000}}]},
    {"name": "big-odd", "stages": [{"type": "org.osbuild.noop", "options": {"x": 9007199254740993}}]},
    {"name": "big-even", "stages": [{"type": "org.osbuild.noop", "options": {"x": 9007199254740992}}]},
    {"name": "many", "stages": [{"type": "org.osbuild.noop", "options": {"a": 1e20, "b": -0.0, "c": 0.00001, "d": 0.0001, "e": 1e16, "f": 1e15, "g": 1.5e300, "h": 1e400, "i": -1e400, "j": NaN, "k": 12345678901234567890123, "l": 0.1, "m": -0, "n": 2.50, "o": 5e-324, "p": [1.0, 2, 4.93e2]}}]}
  ]
}`,
  inspect: `{"version": "2", "pipelines": [{"name": "int", "stages": [{"type": "org.osbuild.noop", "id": "586122988c5bb1aeb600a7137a36a011b1a172cd42425767e77f5165b779262c", "options": {"x": 1}}]}, {"name": "float", "stages": [{"type": "org.osbuild.noop", "id": "9ca43abd322e067cbaa129d97bf48e14cc969810a3bbba7cb3676ab205071cc8", "options": {"x": 1.0}}]}, {"name": "float-exponent", "stages": [{"type": "org.osbuild.noop", "id": "9ca43abd322e067cbaa129d97bf48e14cc969810a3bbba7cb3676ab205071cc8", "options": {"x": 1.0}}]}, {"name": "float-zeros", "stages": [{"type": "org.osbuild.noop", "id": "9ca43abd322e067cbaa129d97bf48e14cc969810a3bbba7cb3676ab205071cc8", "options": {"x": 1.0}}]}, {"name": "big-odd", "stages": [{"type": "org.osbuild.noop", "id": "2f61af3dd63ddc6083c8056e920334cd9221709125fe57931e4272c940caaa0f", "options": {"x": 9007199254740993}}]}, {"name": "big-even", "stages": [{"type": "org.osbuild.noop", "id": "704d1895917cfe4a79bd821868ea5815795bf1ceee56f94d1b2fec39a68b9a14", "options": {"x": 9007199254740992}}]}, {"name": "many", "stages": [{"type": "org.osbuild.noop", "id": "4c4794302d676452169d7a83f8abd78cfb3c140ac4431cebe1f2cdb4396c8b4c", "options": {"a": 1e+20, "b": -0.0, "c": 1e-05, "d": 0.0001, "e": 1e+16, "f": 1000000000000000.0, "g": 1.5e+300, "h": Infinity, "i": -Infinity, "j": NaN, "k": 12345678901234567890123, "l": 0.1, "m": 0, "n": 2.5, "o": 5e-324, "p": [1.0, 2, 493.0]}}]}]}`,
};

/** Non-ASCII, astral and control characters, key order, a repeated key, `__proto__`. */
export const STRINGS: OracleCase = {
  manifest: String.raw`{
  "version": "2",
  "pipelines": [
    {"name": "raw", "stages": [{"type": "org.osbuild.noop", "options": {"s": "café ☃ 😀", "k": "x"}}]},
    {"name": "escaped", "stages": [{"type": "org.osbuild.noop", "options": {"k": "x", "s": "caf\u00e9 \u2603 \ud83d\ude00"}}]},
    {"name": "ascii", "stages": [{"type": "org.osbuild.noop", "options": {"s": "cafe", "k": "x"}}]},
    {"name": "control", "stages": [{"type": "org.osbuild.noop", "options": {"s": "\u0000\u001f\u007f\b\f\n\r\t\"\\\/"}}]},
    {"name": "keys", "stages": [{"type": "org.osbuild.noop", "options": {"\uffff": 1, "\ud800\udc00": 2, "é": 3, "10": 4, "9": 5, "__proto__": {"a": 1}, "a": 6}}]},
    {"name": "duplicate-key", "stages": [{"type": "org.osbuild.noop", "options": {"a": 1, "b": 2, "a": 3}}]},
    {"name": "last-value", "stages": [{"type": "org.osbuild.noop", "options": {"a": 3, "b": 2}}]},
    {"name": "lone-surrogate", "stages": [{"type": "org.osbuild.noop", "options": {"s": "\ud800"}}]}
  ]
}`,
  inspect: String.raw`{"version": "2", "pipelines": [{"name": "raw", "stages": [{"type": "org.osbuild.noop", "id": "ab16688b88a8b46fbac08b34708febf07238926fdae15141f555c3a0d6ee049a", "options": {"s": "caf\u00e9 \u2603 \ud83d\ude00", "k": "x"}}]}, {"name": "escaped", "stages": [{"type": "org.osbuild.noop", "id": "ab16688b88a8b46fbac08b34708febf07238926fdae15141f555c3a0d6ee049a", "options": {"k": "x", "s": "caf\u00e9 \u2603 \ud83d\ude00"}}]}, {"name": "ascii", "stages": [{"type": "org.osbuild.noop", "id": "ff097492a7dd1f7a41217fbed2f5856244fe46f1008309ea98141e8871f74a1c", "options": {"s": "cafe", "k": "x"}}]}, {"name": "control", "stages": [{"type": "org.osbuild.noop", "id": "da348bb0c2309c4dbd26942b55aeef48475b396a211d03b9708c0aa21a9be207", "options": {"s": "\u0000\u001f\u007f\b\f\n\r\t\"\\/"}}]}, {"name": "keys", "stages": [{"type": "org.osbuild.noop", "id": "28f67f8795fb4386824cfa145621e06f9adb4c0dec9be18a20d1cde3842b5126", "options": {"\uffff": 1, "\ud800\udc00": 2, "\u00e9": 3, "10": 4, "9": 5, "__proto__": {"a": 1}, "a": 6}}]}, {"name": "duplicate-key", "stages": [{"type": "org.osbuild.noop", "id": "7edc9b0a07badd90c0e2bdd446b52fc49fc64d3b7759d64d3e4a1a7b59007f62", "options": {"a": 3, "b": 2}}]}, {"name": "last-value", "stages": [{"type": "org.osbuild.noop", "id": "7edc9b0a07badd90c0e2bdd446b52fc49fc64d3b7759d64d3e4a1a7b59007f62", "options": {"a": 3, "b": 2}}]}, {"name": "lone-surrogate", "stages": [{"type": "org.osbuild.noop", "id": "6fca27646dad25d1cef328945c33c652223adf269cb62a229db9b4ec0674b02a", "options": {"s": "\ud800"}}]}]}`,
};

/** `source-epoch` absent, 0, set, beyond 2^64, and on a pipeline built by another. */
export const SOURCE_EPOCH: OracleCase = {
  manifest: `{
  "version": "2",
  "pipelines": [
    {"name": "none", "stages": [{"type": "org.osbuild.noop"}]},
    {"name": "zero", "source-epoch": 0, "stages": [{"type": "org.osbuild.noop"}]},
    {"name": "set", "source-epoch": 1700000000, "stages": [{"type": "org.osbuild.noop"}, {"type": "org.osbuild.noop"}]},
    {"name": "huge", "source-epoch": 12345678901234567890, "stages": [{"type": "org.osbuild.noop"}]},
    {"name": "built", "build": "name:set", "source-epoch": 1700000000, "stages": [{"type": "org.osbuild.noop"}]}
  ]
}`,
  inspect: `{"version": "2", "pipelines": [{"name": "none", "stages": [{"type": "org.osbuild.noop", "id": "beda46704765a47e6d4f44aff22168ae36866c9c0e6e11552b775b77776b2969"}]}, {"name": "zero", "stages": [{"type": "org.osbuild.noop", "id": "bccce523403583bcb7b6ce2aa5e67ec7633898c2be4c9896571f83d457c952c0"}]}, {"name": "set", "runner": "org.osbuild.debian", "stages": [{"type": "org.osbuild.noop", "id": "803eaea0dd3af361c7400e95df09e2f1c8fc47da7ff77b8b85049b329cc16bfa"}, {"type": "org.osbuild.noop", "id": "7578132e9b847920e227370fb3d743c2f8f5a80ad168af9bc0c4b5c3f1d11bd3"}]}, {"name": "huge", "stages": [{"type": "org.osbuild.noop", "id": "eee79771164134ab0e4bfdaa486a760e4ee5fab9113fc3b7bb525b3add0e2f0a"}]}, {"name": "built", "build": "7578132e9b847920e227370fb3d743c2f8f5a80ad168af9bc0c4b5c3f1d11bd3", "stages": [{"type": "org.osbuild.noop", "id": "12b0d265bf9a72f95a3392476750f214f8db532f2da42d0e0efd1b1819c2b12b"}]}]}`,
};

/** Build pipelines (one without stages), references to it, repeated and odd references. */
export const BUILDS: OracleCase = {
  manifest: `{
  "version": "2",
  "pipelines": [
    {"name": "empty"},
    {"name": "build", "runner": "org.osbuild.fedora38", "stages": [{"type": "org.osbuild.noop"}]},
    {"name": "built-by-empty", "build": "name:empty", "stages": [{"type": "org.osbuild.noop"}]},
    {"name": "refers-to-empty", "build": "name:build", "stages": [{"type": "org.osbuild.noop", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": ["name:empty"]}}}]},
    {"name": "repeated-ref", "build": "name:build", "stages": [{"type": "org.osbuild.noop", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": [{"id": "name:build", "options": {"a": 1}}, {"id": "name:built-by-empty"}, {"id": "name:build", "options": {"c": 3}}]}}}]},
    {"name": "null-ref-options", "stages": [{"type": "org.osbuild.noop", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": {"name:build": null}}}}]},
    {"name": "string-ref-options", "stages": [{"type": "org.osbuild.noop", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": {"name:build": "x"}}}}]}
  ],
  "metadata": {"generators": [{"name": "forge-test", "version": "1"}], "exports": [{"name": "refers-to-empty"}]},
  "sources": {"org.osbuild.curl": {"items": {"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": {"url": "https://example.org/a"}}}}
}`,
  inspect: `{"version": "2", "pipelines": [{"name": "empty"}, {"name": "build", "runner": "org.osbuild.debian", "stages": [{"type": "org.osbuild.noop", "id": "beda46704765a47e6d4f44aff22168ae36866c9c0e6e11552b775b77776b2969"}]}, {"name": "built-by-empty", "runner": "org.osbuild.debian", "stages": [{"type": "org.osbuild.noop", "id": "beda46704765a47e6d4f44aff22168ae36866c9c0e6e11552b775b77776b2969"}]}, {"name": "refers-to-empty", "build": "beda46704765a47e6d4f44aff22168ae36866c9c0e6e11552b775b77776b2969", "stages": [{"type": "org.osbuild.noop", "id": "bac9589fb2e4edc42db08d0cd6a71059bab6b5e3745c1247e24db89e7414b1ab", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": {"null": {}}}}}]}, {"name": "repeated-ref", "build": "beda46704765a47e6d4f44aff22168ae36866c9c0e6e11552b775b77776b2969", "stages": [{"type": "org.osbuild.noop", "id": "86d650826275117b8e05f10c20816812e625255104aebf143a9f387f7539eccb", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": {"beda46704765a47e6d4f44aff22168ae36866c9c0e6e11552b775b77776b2969": {}}}}}]}, {"name": "null-ref-options", "stages": [{"type": "org.osbuild.noop", "id": "30b5b15ca33f324f372b41ad36b45ca2f7776a94649b872b29a7f72e1159cc48", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": {"beda46704765a47e6d4f44aff22168ae36866c9c0e6e11552b775b77776b2969": {}}}}}]}, {"name": "string-ref-options", "stages": [{"type": "org.osbuild.noop", "id": "5959237cc214cdbc8db19fba564ddfe82c0765acc5a5555e15a7efdce0e96b18", "inputs": {"t": {"type": "org.osbuild.noop", "origin": "org.osbuild.pipeline", "references": {"beda46704765a47e6d4f44aff22168ae36866c9c0e6e11552b775b77776b2969": "x"}}}}]}], "metadata": {"generators": [{"name": "forge-test", "version": "1"}], "exports": [{"name": "refers-to-empty"}]}, "sources": {"org.osbuild.curl": {"items": {"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": {"url": "https://example.org/a"}}}}}`,
};

/** Two build pipelines with one id and different runners: the last names the runner. */
export const SAME_ID_RUNNERS: OracleCase = {
  manifest: `{
  "version": "2",
  "pipelines": [
    {"name": "fedora-build", "runner": "org.osbuild.fedora38", "stages": [{"type": "org.osbuild.noop"}]},
    {"name": "centos-build", "runner": "org.osbuild.centos9", "stages": [{"type": "org.osbuild.noop"}]},
    {"name": "os", "build": "name:fedora-build", "stages": [{"type": "org.osbuild.noop"}]}
  ]
}`,
  inspect: `{"version": "2", "pipelines": [{"name": "fedora-build", "runner": "org.osbuild.centos9", "stages": [{"type": "org.osbuild.noop", "id": "beda46704765a47e6d4f44aff22168ae36866c9c0e6e11552b775b77776b2969"}]}, {"name": "centos-build", "runner": "org.osbuild.centos9", "stages": [{"type": "org.osbuild.noop", "id": "beda46704765a47e6d4f44aff22168ae36866c9c0e6e11552b775b77776b2969"}]}, {"name": "os", "build": "beda46704765a47e6d4f44aff22168ae36866c9c0e6e11552b775b77776b2969", "stages": [{"type": "org.osbuild.noop", "id": "4cb4309012cfae231a45f624f1ff0935449ce1f80653f9b17296479b2165f46f"}]}]}`,
};
