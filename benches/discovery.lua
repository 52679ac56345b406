-- wrk script: discovery listings spread over the paths in $ROOMCAST_PATHS (comma-separated), or
-- viewers over the rooms in $ROOMCAST_ROOMS (GET /api/livestream?room=…).
local paths = {}
for p in string.gmatch(os.getenv("ROOMCAST_PATHS") or "", "[^,]+") do
  table.insert(paths, p)
end
for id in string.gmatch(os.getenv("ROOMCAST_ROOMS") or "", "[^,]+") do
  table.insert(paths, "/api/livestream?room=" .. id)
end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
