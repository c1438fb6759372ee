#!/bin/sh
# The service's own database role (docker-compose.yml's DATABASE_URL): it owns nothing, and the `migrate` service,
# signed in as the tables' owner, gives it row rights after every migration (README "Database roles"). The postgres
# image runs this once, when the pgdata volume is first created; for an older volume, see the README.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v app_password="$SPROUT_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE sprout_app LOGIN PASSWORD :'app_password';
SQL
