/**
 * Test data: one blueprint that uses every key of the format, in TOML and in JSON, and the
 * blueprint both must parse to.
 */

export const ARMOURED_KEY = `-----BEGIN PGP PUBLIC KEY BLOCK-----

mDMEZQAAABYJKwYBBAHaRw8BAQdAexample
=abcd
-----END PGP PUBLIC KEY BLOCK-----`;

export const FULL_TOML = `
name = "everything"
description = "Every key of the blueprint format"
version = "1.2.3"
distro = "debian-12"
architecture = "x86_64"
minimal = false

[[packages]]
name = "openssh-server"
version = "2:9.2p1-2+deb12u3"

[[packages]]
name = "curl"
version = ">= 7.88"

[[packages]]
name = "nginx"
version = "*"

[[packages]]
name = "less"

[[packages]]
name = "python3-*"
version = "3.11.*"

[[modules]]
name = "vim-tiny"
version = "<< 3:10"

[[enabled_modules]]
name = "nodejs"
stream = "20"

[[groups]]
name = "ssh-server"

[[containers]]
source = "registry.example.org/forge/app:latest"
name = "app"
tls-verify = true
local-storage = false

[customizations]
hostname = "forge-everything"
installation_device = "/dev/vda"
partitioning_mode = "lvm"
fips = false

[customizations.kernel]
name = "linux-image-amd64"
append = "console=ttyS0 quiet"

[[customizations.sshkey]]
user = "root"
key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample root@example"

[[customizations.user]]
name = "forge"
description = "Forge user"
password = "$6$salt$hash"
key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample forge@example"
home = "/home/forge/"
shell = "/bin/bash"
groups = ["sudo", "users"]
uid = 1200
gid = 1200
expiredate = 20000
force_password_reset = true

[[customizations.group]]
name = "forge"
gid = 1200

[customizations.timezone]
timezone = "Europe/Berlin"
ntpservers = ["0.debian.pool.ntp.org", "1.debian.pool.ntp.org"]

[customizations.locale]
languages = ["en_US.UTF-8", "de_DE.UTF-8"]
keyboard = "de"

[customizations.firewall]
ports = ["22:tcp", "80:tcp", "8000-8010:udp", "imap:tcp"]

[customizations.firewall.services]
enabled = ["ftp", "ntp"]
disabled = ["telnet"]

[[customizations.firewall.zones]]
name = "trusted"
sources = ["192.0.2.0/24"]

[customizations.services]
enabled = ["ssh", "nginx"]
disabled = ["apt-daily.timer"]
masked = ["systemd-networkd-wait-online.service"]

[[customizations.filesystem]]
mountpoint = "/"
minsize = 2147483648

[[customizations.filesystem]]
mountpoint = "/var"
minsize = "1 GiB"

[[customizations.filesystem]]
mountpoint = "/srv"
size = "500 MB"

[customizations.disk]
type = "gpt"
minsize = "20 GiB"
start_offset = "1 MiB"
sector_size = 512

[[customizations.disk.partitions]]
minsize = "1 GiB"
mountpoint = "/boot"
label = "boot"
fs_type = "ext4"

[[customizations.disk.partitions]]
type = "lvm"
name = "vg0"
minsize = 10737418240
part_label = "lvm"

[[customizations.disk.partitions.logical_volumes]]
name = "root"
minsize = "5 GiB"
mountpoint = "/"
fs_type = "ext4"

[[customizations.disk.partitions.logical_volumes]]
name = "swap"
minsize = "1 GiB"
fs_type = "swap"

[[customizations.disk.partitions]]
type = "btrfs"
minsize = "4 GiB"

[[customizations.disk.partitions.subvolumes]]
name = "home"
mountpoint = "/home"

[customizations.fdo]
manufacturing_server_url = "http://fdo.example.org:8080"
diun_pub_key_hash = "sha256:abcd"

[customizations.openscap]
datastream = "/usr/share/xml/scap/ssg/content/ssg-debian12-ds.xml"
profile_id = "xccdf_org.ssgproject.content_profile_standard"
policy_id = "policy-1"

[customizations.openscap.tailoring]
selected = ["rule_a"]
unselected = ["rule_b"]

[customizations.openscap.json_tailoring]
profile_id = "custom"
filepath = "/etc/tailoring.json"

[customizations.ignition.embedded]
config = "eyJpZ25pdGlvbiI6e319"

[customizations.ignition.firstboot]
url = "http://ignition.example.org/config"

[[customizations.directories]]
path = "/etc/forge"
user = "root"
group = 0
mode = "0755"
ensure_parents = true

[[customizations.files]]
path = "/etc/forge/motd"
user = 0
group = "root"
mode = "644"
data = "Built by Debian Forge\\n"
ensure_parents = true

[[customizations.files]]
path = "/etc/forge/remote"
uri = "https://files.example.org/remote"

[[customizations.repositories]]
id = "forge-extra"
name = "Forge extra packages"
uri = "https://deb.example.org/forge"
suites = ["bookworm", "bookworm-updates"]
components = ["main", "contrib"]
architectures = ["amd64"]
signed_by = "/usr/share/keyrings/forge.gpg"
enabled = true
priority = 500
filename = "forge-extra"
install_from = true

[[customizations.repositories]]
id = "flat"
baseurls = ["file:///srv/repo"]
suites = ["./"]
gpgkeys = ["""${ARMOURED_KEY}"""]
trusted = true
gpgcheck = false
repo_gpgcheck = false
sslverify = true

[customizations.installer]
unattended = true
sudo-nopasswd = ["forge"]
menu-timeout = 5

[customizations.installer.kickstart]
contents = "text"

[customizations.installer.modules]
enable = ["org.fedoraproject.Anaconda.Modules.Localization"]
disable = ["org.fedoraproject.Anaconda.Modules.Users"]

[customizations.rpm.import_keys]
files = ["/etc/pki/rpm-gpg/RPM-GPG-KEY"]

[customizations.rhsm.config.dnf_plugins.product_id]
enabled = false

[customizations.rhsm.config.subscription_manager.rhsm]
manage_repos = false

[customizations.rhsm.config.subscription_manager.rhsmcertd]
auto_registration = true

[customizations.cacerts]
pem_certs = ["-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n"]

[customizations.containers-storage]
destination-path = "/var/lib/containers/storage"

[[customizations.firstboot.scripts]]
type = "custom"
name = "hello"
ignore_failure = true
custom_contents = "#!/bin/sh\\necho hello\\n"

[customizations.dnf.config]
set_releasever = true

[customizations.iso]
application_id = "forge"
publisher = "Debian Forge"
volume_id = "FORGE"

[customizations.sshd]
password_authentication = false
kbd_interactive_authentication = false
client_alive_interval = 60
permit_root_login = "prohibit-password"
`;

const GiB = 1024 ** 3;

/** The blueprint FULL_TOML (and FULL_JSON) parse to, keys in composer's order. */
export const FULL_BLUEPRINT = {
  name: 'everything',
  description: 'Every key of the blueprint format',
  version: '1.2.3',
  packages: [
    { name: 'openssh-server', version: '2:9.2p1-2+deb12u3' },
    { name: 'curl', version: '>= 7.88' },
    { name: 'nginx', version: '*' },
    { name: 'less' },
    { name: 'python3-*', version: '3.11.*' },
  ],
  modules: [{ name: 'vim-tiny', version: '<< 3:10' }],
  enabled_modules: [{ name: 'nodejs', stream: '20' }],
  groups: [{ name: 'ssh-server' }],
  containers: [
    {
      source: 'registry.example.org/forge/app:latest',
      name: 'app',
      'tls-verify': true,
      'local-storage': false,
    },
  ],
  customizations: {
    hostname: 'forge-everything',
    kernel: { name: 'linux-image-amd64', append: 'console=ttyS0 quiet' },
    sshkey: [{ user: 'root', key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample root@example' }],
    user: [
      {
        name: 'forge',
        description: 'Forge user',
        password: '$6$salt$hash',
        key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample forge@example',
        home: '/home/forge/',
        shell: '/bin/bash',
        groups: ['sudo', 'users'],
        uid: 1200,
        gid: 1200,
        expiredate: 20000,
        force_password_reset: true,
      },
    ],
    group: [{ name: 'forge', gid: 1200 }],
    timezone: { timezone: 'Europe/Berlin', ntpservers: ['0.debian.pool.ntp.org', '1.debian.pool.ntp.org'] },
    locale: { languages: ['en_US.UTF-8', 'de_DE.UTF-8'], keyboard: 'de' },
    firewall: {
      ports: ['22:tcp', '80:tcp', '8000-8010:udp', 'imap:tcp'],
      services: { enabled: ['ftp', 'ntp'], disabled: ['telnet'] },
      zones: [{ name: 'trusted', sources: ['192.0.2.0/24'] }],
    },
    services: {
      enabled: ['ssh', 'nginx'],
      disabled: ['apt-daily.timer'],
      masked: ['systemd-networkd-wait-online.service'],
    },
    filesystem: [
      { mountpoint: '/', minsize: 2 * GiB },
      { mountpoint: '/var', minsize: GiB },
      { mountpoint: '/srv', minsize: 500_000_000 },
    ],
    disk: {
      type: 'gpt',
      minsize: 20 * GiB,
      partitions: [
        { type: 'plain', minsize: GiB, mountpoint: '/boot', label: 'boot', fs_type: 'ext4' },
        {
          type: 'lvm',
          minsize: 10 * GiB,
          part_label: 'lvm',
          name: 'vg0',
          logical_volumes: [
            { name: 'root', minsize: 5 * GiB, mountpoint: '/', fs_type: 'ext4' },
            { name: 'swap', minsize: GiB, fs_type: 'swap' },
          ],
        },
        { type: 'btrfs', minsize: 4 * GiB, subvolumes: [{ name: 'home', mountpoint: '/home' }] },
      ],
      start_offset: 1024 * 1024,
      sector_size: 512,
    },
    installation_device: '/dev/vda',
    partitioning_mode: 'lvm',
    fdo: { manufacturing_server_url: 'http://fdo.example.org:8080', diun_pub_key_hash: 'sha256:abcd' },
    openscap: {
      datastream: '/usr/share/xml/scap/ssg/content/ssg-debian12-ds.xml',
      profile_id: 'xccdf_org.ssgproject.content_profile_standard',
      tailoring: { selected: ['rule_a'], unselected: ['rule_b'] },
      json_tailoring: { profile_id: 'custom', filepath: '/etc/tailoring.json' },
      policy_id: 'policy-1',
    },
    ignition: {
      embedded: { config: 'eyJpZ25pdGlvbiI6e319' },
      firstboot: { url: 'http://ignition.example.org/config' },
    },
    directories: [{ path: '/etc/forge', user: 'root', group: 0, mode: '0755', ensure_parents: true }],
    files: [
      {
        path: '/etc/forge/motd',
        user: 0,
        group: 'root',
        mode: '644',
        data: 'Built by Debian Forge\n',
        ensure_parents: true,
      },
      { path: '/etc/forge/remote', uri: 'https://files.example.org/remote' },
    ],
    repositories: [
      {
        id: 'forge-extra',
        name: 'Forge extra packages',
        uri: 'https://deb.example.org/forge',
        suites: ['bookworm', 'bookworm-updates'],
        components: ['main', 'contrib'],
        architectures: ['amd64'],
        signed_by: '/usr/share/keyrings/forge.gpg',
        enabled: true,
        priority: 500,
        filename: 'forge-extra',
        install_from: true,
      },
      {
        id: 'flat',
        baseurls: ['file:///srv/repo'],
        suites: ['./'],
        gpgkeys: [ARMOURED_KEY],
        trusted: true,
        gpgcheck: false,
        repo_gpgcheck: false,
        sslverify: true,
      },
    ],
    fips: false,
    installer: {
      unattended: true,
      'sudo-nopasswd': ['forge'],
      kickstart: { contents: 'text' },
      modules: {
        enable: ['org.fedoraproject.Anaconda.Modules.Localization'],
        disable: ['org.fedoraproject.Anaconda.Modules.Users'],
      },
      'menu-timeout': 5,
    },
    rpm: { import_keys: { files: ['/etc/pki/rpm-gpg/RPM-GPG-KEY'] } },
    rhsm: {
      config: {
        dnf_plugins: { product_id: { enabled: false } },
        subscription_manager: { rhsm: { manage_repos: false }, rhsmcertd: { auto_registration: true } },
      },
    },
    cacerts: { pem_certs: ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'] },
    'containers-storage': { 'destination-path': '/var/lib/containers/storage' },
    firstboot: {
      scripts: [
        { type: 'custom', name: 'hello', ignore_failure: true, custom_contents: '#!/bin/sh\necho hello\n' },
      ],
    },
    dnf: { config: { set_releasever: true } },
    iso: { application_id: 'forge', publisher: 'Debian Forge', volume_id: 'FORGE' },
    sshd: {
      password_authentication: false,
      kbd_interactive_authentication: false,
      client_alive_interval: 60,
      permit_root_login: 'prohibit-password',
    },
  },
  distro: 'debian-12',
  architecture: 'x86_64',
  minimal: false,
};

/** FULL_TOML as a client would send it in JSON (sizes as given, in JSON's own forms). */
export const FULL_JSON = JSON.stringify({
  ...FULL_BLUEPRINT,
  customizations: {
    ...FULL_BLUEPRINT.customizations,
    filesystem: [
      { mountpoint: '/', minsize: 2 * GiB },
      { mountpoint: '/var', minsize: '1 GiB' },
      { mountpoint: '/srv', size: '500 MB' },
    ],
  },
});
