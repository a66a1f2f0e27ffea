-- The platform's PostgreSQL role and database, under the runbook's names: the login role
-- `trading_user` owns the database `trading_platform`, so the runbook's lines
--   psql -h localhost -U trading_user -d trading_platform -c "SELECT 1"
--   pg_dump -h localhost -U trading_user trading_platform
-- work as written. Run once, as a superuser, with the password given on the command line
-- (psql quotes it; it is never in this file or in the shell history if read from a file):
--   psql -h localhost -U postgres -v ON_ERROR_STOP=1 \
--        -v password="$(cat /etc/mcp-trading/db-password)" -f deploy/postgres/create_database.sql
-- then set DATABASE_URL=postgresql://trading_user:<password>@localhost:5432/trading_platform
-- and run `mcp-trading db upgrade` (the schema). The role is not a superuser and cannot
-- create roles or databases; `secrets rotate --database` adds the two login roles it rotates
-- (MCP_TRADING_DATABASE_LOGIN_ROLES) as members acting as trading_user, with an admin URL.
-- Without -v password=... psql sends `:'password'` as is and the CREATE ROLE fails (with
-- ON_ERROR_STOP, psql exits 3 and nothing is created).
CREATE ROLE trading_user LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
CREATE DATABASE trading_platform OWNER trading_user ENCODING 'UTF8';
REVOKE ALL ON DATABASE trading_platform FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE trading_platform TO trading_user;
