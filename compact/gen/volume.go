package gen

import (
	"math"
	"time"
)

// volume spreads a source's daily volume over the hours of a stream (one account/region, one VPC).
// w holds relative weights per day type (weekday, weekend) and UTC hour; k converts weight into
// records so the sum over all streams and days hits the configured per-day volume.
type volume struct {
	w [2][24]float64
	k float64
}

func (v *volume) dayWeight(dt int) float64 {
	t := 0.0
	for _, x := range v.w[dt] {
		t += x
	}
	return t
}

// prefix returns the expected cumulative count at each hour boundary of one day. Hours get ±20%
// noise, renormalised so the day's total stays exact; a window's count is the difference of the
// floors of the cumulative curve, so windows of a day always add up to the day's total.
func (v *volume) prefix(seed, stream uint64, day, dt int) [25]float64 {
	r := newRNG(seed, stream, uint64(day), tagVolume)
	var e [24]float64
	sum, base := 0.0, 0.0
	for h := 0; h < 24; h++ {
		e[h] = v.w[dt][h] * (0.8 + 0.4*r.float())
		sum += e[h]
		base += v.w[dt][h]
	}
	var p [25]float64
	if sum <= 0 {
		return p
	}
	scale := v.k * base / sum
	for h := 0; h < 24; h++ {
		p[h+1] = p[h] + e[h]*scale
	}
	return p
}

// countIn is the number of records in minutes [m0, m1) of the day.
func countIn(p *[25]float64, m0, m1 int) int {
	return int(math.Floor(at(p, m1)) - math.Floor(at(p, m0)))
}

func at(p *[25]float64, m int) float64 {
	h := m / 60
	if h >= 24 {
		return p[24]
	}
	return p[h] + (p[h+1]-p[h])*float64(m%60)/60
}

// Traffic follows the local day of the region a little.
var diurnal = [24]float64{0.6, 0.55, 0.5, 0.5, 0.55, 0.6, 0.7, 0.85, 1.0, 1.1, 1.2, 1.2, 1.15, 1.2, 1.2, 1.15, 1.1, 1.0, 0.95, 0.9, 0.85, 0.8, 0.7, 0.65}

func diurnalAt(tz, utcHour int) float64 { return diurnal[((utcHour+tz)%24+24)%24] }

func (w *world) dayType(day int) int {
	switch time.Unix(w.start+int64(day)*86400, 0).UTC().Weekday() {
	case time.Saturday, time.Sunday:
		return 1
	}
	return 0
}

// calibrate sets every stream's weights and k, and the delivery interval of its files.
func (w *world) calibrate(ctPerDay, flowsPerDay, dnsPerDay int) {
	var ctVols, flowVols, dnsVols []*volume
	for _, st := range w.streams {
		for dt := 0; dt < 2; dt++ {
			for h := 0; h < 24; h++ {
				st.vol.w[dt][h] = st.samp[dt][h].total()
			}
		}
		ctVols = append(ctVols, &st.vol)
	}
	for _, v := range w.vpcs {
		tz := v.ar.info.tz
		flow, dns := v.connSamp.total(), v.dnsSamp.total()
		for dt := 0; dt < 2; dt++ {
			f := 1.0
			if dt == 1 {
				f = 0.8
			}
			for h := 0; h < 24; h++ {
				v.flowVol.w[dt][h] = flow * f * diurnalAt(tz, h)
				v.dnsVol.w[dt][h] = dns * f * diurnalAt(tz, h)
			}
		}
		flowVols = append(flowVols, &v.flowVol)
		dnsVols = append(dnsVols, &v.dnsVol)
	}
	w.setK(ctVols, ctPerDay)
	w.setK(flowVols, flowsPerDay)
	w.setK(dnsVols, dnsPerDay)
	for _, st := range w.streams {
		st.interval = pickInterval(&st.vol, []int{5, 10, 15}, 20)
	}
	for _, v := range w.vpcs {
		v.flowInterval = pickInterval(&v.flowVol, []int{5, 10}, 40)
		v.dnsInterval = pickInterval(&v.dnsVol, []int{5, 10}, 20)
	}
}

func (w *world) setK(vols []*volume, perDay int) {
	total := 0.0
	for d := 0; d < w.days; d++ {
		dt := w.dayType(d)
		for _, v := range vols {
			total += v.dayWeight(dt)
		}
	}
	k := 0.0
	if total > 0 {
		k = float64(perDay) * float64(w.days) / total
	}
	for _, v := range vols {
		v.k = k
	}
}

// pickInterval: AWS delivers every few minutes; quiet streams get longer windows so files are not tiny.
func pickInterval(v *volume, choices []int, minPerFile float64) int {
	perDay := v.k * v.dayWeight(0)
	for _, c := range choices {
		if perDay/float64(24*60/c) >= minPerFile {
			return c
		}
	}
	return choices[len(choices)-1]
}
