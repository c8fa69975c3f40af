"""The 18 shortcut aliases of the original CLI."""

SHORTCUTS: dict[str, str] = {
    "create": "apps:create",
    "destroy": "apps:destroy",
    "info": "apps:info",
    "login": "auth:login",
    "logout": "auth:logout",
    "logs": "apps:logs",
    "open": "apps:open",
    "passwd": "auth:passwd",
    "pull": "builds:create",
    "register": "auth:register",
    "rollback": "releases:rollback",
    "run": "apps:run",
    "scale": "ps:scale",
    "sharing": "perms:list",
    "sharing:list": "perms:list",
    "sharing:add": "perms:create",
    "sharing:remove": "perms:delete",
    "whoami": "auth:whoami",
}
