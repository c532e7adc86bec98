package server

// Table is a configured table resolved for the table endpoints: its canonical names and ids and
// its root directory.
type Table struct {
	Share   string
	Schema  string
	Name    string
	ShareID string
	ID      string
	// Location is the absolute path of the table root (the directory holding _delta_log).
	Location string
	// HistoryShared allows time travel, startingVersion queries and the change data feed;
	// StartVersion is the first version they may reach (see TableConfig).
	HistoryShared bool
	StartVersion  int64
}

// catalog indexes the configuration for lookups; immutable after New.
type catalog struct {
	shares  []*shareEntry
	byName  map[string]*shareEntry
	tableID map[string]*Table
}

type shareEntry struct {
	name, id string
	schemas  []*schemaEntry
	byName   map[string]*schemaEntry
	tables   []*Table // every table, in schema order
}

type schemaEntry struct {
	name   string
	tables []*Table
	byName map[string]*Table
}

func newCatalog(cfg *Config) *catalog {
	c := &catalog{byName: map[string]*shareEntry{}, tableID: map[string]*Table{}}
	for _, sh := range cfg.Shares {
		se := &shareEntry{name: sh.Name, id: sh.ID, byName: map[string]*schemaEntry{}}
		for _, sc := range sh.Schemas {
			sce := &schemaEntry{name: sc.Name, byName: map[string]*Table{}}
			for _, tc := range sc.Tables {
				t := &Table{Share: sh.Name, Schema: sc.Name, Name: tc.Name, ShareID: sh.ID, ID: tc.ID,
					Location: tc.Location, HistoryShared: tc.SharesHistory(), StartVersion: tc.StartVersion}
				sce.tables = append(sce.tables, t)
				sce.byName[foldName(tc.Name)] = t
				se.tables = append(se.tables, t)
				c.tableID[t.ID] = t
			}
			se.schemas = append(se.schemas, sce)
			se.byName[foldName(sc.Name)] = sce
		}
		c.shares = append(c.shares, se)
		c.byName[foldName(sh.Name)] = se
	}
	return c
}

func (c *catalog) share(name string) *shareEntry { return c.byName[foldName(name)] }

// LookupTable finds a configured table by name (case-insensitively).
func (s *Server) LookupTable(share, schema, table string) (*Table, bool) {
	sh := s.cat.share(share)
	if sh == nil {
		return nil, false
	}
	sc := sh.byName[foldName(schema)]
	if sc == nil {
		return nil, false
	}
	t := sc.byName[foldName(table)]
	if t == nil {
		return nil, false
	}
	cp := *t
	return &cp, true
}

// TableByID finds a configured table by id.
func (s *Server) TableByID(id string) (*Table, bool) {
	t := s.cat.tableID[id]
	if t == nil {
		return nil, false
	}
	cp := *t
	return &cp, true
}
