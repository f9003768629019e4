package rpc

import "testing"

// A client reading a long document page after page finds every page it read
// at this version again, up to the bound; a new version starts afresh.
func TestDocumentPages(t *testing.T) {
	var pages documentPages
	for start := 0; start < 3*1000; start += 1000 {
		pages = pages.with(documentPage{sequence: 7, start: start, size: 1000})
	}
	for start := 0; start < 3*1000; start += 1000 {
		if _, ok := pages.find(documentPage{sequence: 7, start: start, size: 1000}); !ok {
			t.Errorf("the page at %d of version 7 is not kept", start)
		}
	}
	if _, ok := pages.find(documentPage{sequence: 7, start: 0, size: 1000, bare: true}); ok {
		t.Error("a page with alternatives was found for a request without them")
	}
	if _, ok := pages.find(documentPage{sequence: 7, start: 0, size: 500}); ok {
		t.Error("a page of another size was found")
	}

	t.Run("Bound", func(t *testing.T) {
		var pages documentPages
		for start := range maxCachedDocumentPages + 2 {
			pages = pages.with(documentPage{sequence: 7, start: start})
		}
		if len(pages) != maxCachedDocumentPages {
			t.Fatalf("%d pages kept, want %d", len(pages), maxCachedDocumentPages)
		}
		if _, ok := pages.find(documentPage{sequence: 7, start: 0}); ok {
			t.Error("the oldest page is still kept beyond the bound")
		}
		if _, ok := pages.find(documentPage{sequence: 7, start: maxCachedDocumentPages + 1}); !ok {
			t.Error("the newest page is not kept")
		}
	})

	t.Run("NewVersion", func(t *testing.T) {
		newer := pages.with(documentPage{sequence: 8, start: 0, size: 1000})
		if len(newer) != 1 {
			t.Fatalf("%d pages kept after a new version, want its one page", len(newer))
		}
		if _, ok := pages.find(documentPage{sequence: 7, start: 1000, size: 1000}); !ok {
			t.Error("adding a page changed the pages it was added to, which other callers may hold")
		}
	})
}
