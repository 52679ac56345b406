-- wrk script: viewers resolving rooms, spread over the session ids in $ROOMCAST_SESSIONS.
local sessions = {}
for id in string.gmatch(os.getenv("ROOMCAST_SESSIONS") or "", "[^,]+") do
  table.insert(sessions, id)
end
local i = 0
request = function()
  i = i + 1
  local id = sessions[(i % #sessions) + 1]
  return wrk.format("GET", "/api/livestream?sessionId=" .. id)
end
