# Debian Forge: one image for the API (`forge serve --workers 0`) and the build workers
# (`forge worker`); docker-compose.yml runs both. Builds need a privileged container with the host's
# /dev (loop devices, mounts, bubblewrap).
FROM node:20-bookworm

WORKDIR /opt/debian-forge

# The [engine] section of scripts/debian-packages (one name a line, '#' comments), as setup.sh
# installs it: the images forge makes carry their own build pipeline, so the tests' tools stay out.
# Packages are fetched from the mirror of the image's apt sources, which forge also builds from.
COPY scripts/debian-packages scripts/debian-packages
RUN apt-get update \
 && awk '{ sub(/#.*/, ""); gsub(/[[:space:]]+/, "") } /^\[.*\]$/ { s = $0; next } $0 != "" && s == "[engine]"' \
    scripts/debian-packages \
    | DEBIAN_FRONTEND=noninteractive xargs apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/*

# setup.sh: npm ci, the stage libdir and the bundled forge command.
COPY . .
RUN bash scripts/setup.sh

ENV FORGE_STATE_DIR=/var/lib/debian-forge
VOLUME ["/var/lib/debian-forge"]
EXPOSE 8700
ENTRYPOINT ["node", "/opt/debian-forge/apps/cli/bin/forge.js"]
CMD ["serve"]
