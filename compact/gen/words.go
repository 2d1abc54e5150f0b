package gen

var firstNames = []string{"ana", "ben", "carla", "dev", "elena", "farid", "grace", "hiro", "ines", "jonas", "kemi", "liam",
	"maya", "noah", "olga", "priya", "quinn", "rafael", "sara", "tomas", "uma", "victor", "wei", "ximena", "yusuf", "zoe",
	"amir", "bianca", "chen", "diana", "emil", "fatima", "gustav", "hana", "ivan", "julia", "kofi", "lena", "marco", "nina",
	"oscar", "paula", "ravi", "sofia", "theo", "valentina", "william", "yara", "aiko", "bruno"}

var lastNames = []string{"silva", "müller", "okafor", "tanaka", "novak", "haddad", "larsen", "garcia", "kowalski", "nguyen",
	"rossi", "schmidt", "dubois", "andersson", "costa", "ivanova", "kim", "patel", "singh", "lopez", "moreau", "jensen",
	"bauer", "fischer", "weber", "romero", "yamamoto", "hughes", "byrne", "oconnor", "petrov", "mendes", "takahashi",
	"osei", "farah", "mensah", "lindqvist", "horvat", "kovacs", "dimitrov", "svensson", "walsh", "reyes", "ortiz",
	"ferreira", "nakamura", "hall", "young", "wright", "lee"}

var words = []string{"amber", "atlas", "beacon", "birch", "bolt", "cedar", "cinder", "cobalt", "comet", "coral", "crest",
	"delta", "drift", "ember", "falcon", "fern", "flint", "forge", "frost", "galaxy", "garnet", "glade", "granite", "harbor",
	"hazel", "helix", "horizon", "indigo", "iris", "jade", "juniper", "kestrel", "lagoon", "lark", "lumen", "maple",
	"marble", "meadow", "meridian", "mesa", "mint", "nebula", "nimbus", "north", "oak", "onyx", "orbit", "otter", "pebble",
	"pine", "pixel", "plume", "prism", "quartz", "quill", "raven", "reef", "ridge", "river", "rowan", "sage", "sierra",
	"slate", "solar", "sparrow", "spruce", "stone", "summit", "tango", "tempo", "thistle", "tidal", "timber", "topaz",
	"trail", "tundra", "umber", "vale", "vector", "velvet", "vertex", "willow", "wren", "zephyr", "zinc", "apex", "arbor",
	"aspen", "basalt", "brook", "canyon", "cirrus", "clover", "dune", "echo", "fable", "fjord", "glacier", "grove"}

var tailTLDs = []string{"com", "com", "com", "net", "io", "org", "co", "dev", "app", "de", "co.uk", "fr", "nl", "ai"}

var attackTLDs = []string{"xyz", "top", "info", "online", "site"}
