package hnsw

// candidate is a node and its distance to the vector being searched for.
type candidate struct {
	dist float32
	node uint32
}

// The heaps below are written out for candidate instead of going through
// container/heap: an interface call per comparison and a boxed value per
// push cost more than the distance computations they order.

// minHeap keeps the nearest candidate at index 0.
type minHeap []candidate

func (h *minHeap) push(c candidate) {
	s := append(*h, c)
	i := len(s) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if s[parent].dist <= c.dist {
			break
		}
		s[i] = s[parent]
		i = parent
	}
	s[i] = c
	*h = s
}

// pop removes and returns the nearest candidate. The heap must not be empty.
func (h *minHeap) pop() candidate {
	s := *h
	top := s[0]
	last := s[len(s)-1]
	s = s[:len(s)-1]
	n := len(s)
	i := 0
	for {
		child := 2*i + 1
		if child >= n {
			break
		}
		if right := child + 1; right < n && s[right].dist < s[child].dist {
			child = right
		}
		if last.dist <= s[child].dist {
			break
		}
		s[i] = s[child]
		i = child
	}
	if n > 0 {
		s[i] = last
	}
	*h = s
	return top
}

// maxHeap keeps the farthest candidate at index 0.
type maxHeap []candidate

func (h *maxHeap) push(c candidate) {
	s := append(*h, c)
	i := len(s) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if s[parent].dist >= c.dist {
			break
		}
		s[i] = s[parent]
		i = parent
	}
	s[i] = c
	*h = s
}

// pop removes and returns the farthest candidate. The heap must not be
// empty.
func (h *maxHeap) pop() candidate {
	s := *h
	top := s[0]
	last := s[len(s)-1]
	s = s[:len(s)-1]
	n := len(s)
	i := 0
	for {
		child := 2*i + 1
		if child >= n {
			break
		}
		if right := child + 1; right < n && s[right].dist > s[child].dist {
			child = right
		}
		if last.dist >= s[child].dist {
			break
		}
		s[i] = s[child]
		i = child
	}
	if n > 0 {
		s[i] = last
	}
	*h = s
	return top
}

// replaceTop replaces the farthest candidate by c, which must be nearer.
// It is one sift instead of a pop and a push.
func (h maxHeap) replaceTop(c candidate) {
	n := len(h)
	i := 0
	for {
		child := 2*i + 1
		if child >= n {
			break
		}
		if right := child + 1; right < n && h[right].dist > h[child].dist {
			child = right
		}
		if c.dist >= h[child].dist {
			break
		}
		h[i] = h[child]
		i = child
	}
	h[i] = c
}

// drainAscending empties h into dst ordered from nearest to farthest and
// returns dst.
func (h *maxHeap) drainAscending(dst []candidate) []candidate {
	n := len(*h)
	start := len(dst)
	for range n {
		dst = append(dst, candidate{})
	}
	for i := n - 1; i >= 0; i-- {
		dst[start+i] = h.pop()
	}
	return dst
}
