#!/bin/sh
# Run once by the postgres image, on an empty data volume (/docker-entrypoint-initdb.d): towns gets
# a database and a role of its own, apart from Temporal's databases (temporal, temporal_visibility,
# made by the temporal-schema service). On an existing server, run the same two statements by hand.
set -eu
: "${TOWNS_DB_PASSWORD:?set TOWNS_DB_PASSWORD}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set=pw="$TOWNS_DB_PASSWORD" <<'SQL'
CREATE ROLE towns LOGIN PASSWORD :'pw';
CREATE DATABASE towns OWNER towns;
SQL
